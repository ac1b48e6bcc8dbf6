// A floating-point network input that the denoising loop refills every step: one buffer in the dtype
// the graph declares (float32, or float16 bit patterns for the onnxruntime-optimized fp16 exports),
// allocated once per batch and written row by row from float32 values, instead of a new array and a
// new float16 conversion of the whole batch per step. The HostTensor it holds is fed as it is; onnxruntime
// reads the buffer during the call, so refilling it afterwards is safe.
import { float32ToFloat16Into } from './float16';
import type { HostTensor, ModelSession } from './onnx-runtime';

export class FloatFeed {
  readonly tensor: Extract<HostTensor, { type: 'float32' | 'float16' }>;

  constructor(session: Pick<ModelSession, 'path' | 'inputs'>, name: string, dims: readonly number[]) {
    const info = session.inputs[name];
    if (info === undefined) throw new TypeError(`${session.path} has no input '${name}'`);
    const count = dims.reduce((product, dim) => product * dim, 1);
    const frozenDims = Object.freeze([...dims]);
    if (info.type === 'float32') this.tensor = { type: 'float32', data: new Float32Array(count), dims: frozenDims };
    else if (info.type === 'float16') this.tensor = { type: 'float16', data: new Uint16Array(count), dims: frozenDims };
    else throw new TypeError(`${session.path} input '${name}' is ${info.type}; the pipeline feeds it float32 or float16`);
  }

  /** Writes float32 values from element `offset` on, rounded to float16 when the graph takes float16. */
  write(values: Float32Array, offset: number): void {
    const { tensor } = this;
    if (tensor.type === 'float32') tensor.data.set(values, offset);
    else float32ToFloat16Into(values, tensor.data.subarray(offset, offset + values.length));
  }

  /** Copies `count` elements from `from` to `to`: a guided image's second row is its first, already converted. */
  copy(from: number, to: number, count: number): void {
    this.tensor.data.copyWithin(to, from, from + count);
  }
}
