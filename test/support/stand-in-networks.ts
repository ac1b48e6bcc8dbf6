// Stand-ins for the three networks of a Stable Diffusion export, as ModelSessions the pipeline cannot
// tell from onnxruntime's: the same input and output names, dtypes (float32, or float16 as the
// onnxruntime-optimized exports declare them) and shapes, at any size, SD 1.x's included. Two kinds:
//
// - `computed`: each output is a fixed JS function of the inputs (float64 arithmetic, one rounding on the
//   way out), so every value the pipeline feeds in reaches the picture. With no onnxruntime kernel
//   involved the result is the same on every machine, which lets a test pin the pipeline's own
//   arithmetic (scheduler, guidance, dtype conversions, post-processing) byte for byte.
// - `constant`: each call returns the same prepared output, so the time a generation takes is the
//   pipeline's own JavaScript and nothing else (bench/cpu-overhead.ts measures that at 512²).
import { float16ToFloat32Array, float32ToFloat16Array } from '../../gpu-function/pipeline/float16';
import type { HostTensor, ModelSession, TensorInfo } from '../../gpu-function/pipeline/onnx-runtime';

export type StandInFloat = 'float32' | 'float16';

export interface StandInOptions {
  /** The floating-point dtype every float input and output declares. */
  readonly float: StandInFloat;
  readonly kind: 'computed' | 'constant';
  /** Text embedding width: 768 for SD 1.x, 1024 for SD 2.x. @default 768 */
  readonly hidden?: number;
  /** The UNet's timestep dtype. @default the float dtype */
  readonly timestep?: 'float32' | 'float16' | 'int64';
}

export interface StandInNetworks {
  readonly textEncoder: ModelSession;
  readonly unet: ModelSession;
  readonly vaeDecoder: ModelSession;
  /** Calls of run() per network, for tests that count them. */
  readonly calls: { textEncoder: number; unet: number; vaeDecoder: number };
}

export function standInNetworks(options: StandInOptions): StandInNetworks {
  const hidden = options.hidden ?? 768;
  const float = options.float;
  const calls = { textEncoder: 0, unet: 0, vaeDecoder: 0 };
  const info = (name: string, type: string, shape: (number | string)[]): TensorInfo => ({ name, type, shape, rank: shape.length });
  const constant = options.kind === 'constant' ? new ConstantOutputs(float) : undefined;

  const textEncoder = session(
    'stand-in/text_encoder',
    [info('input_ids', 'int32', ['batch', 'sequence'])],
    [info('last_hidden_state', float, ['batch', 'sequence', hidden]), info('pooler_output', float, ['batch', hidden])],
    (feeds) => {
      calls.textEncoder += 1;
      const ids = feeds['input_ids']!;
      const [rows, sequence] = ids.dims as [number, number];
      const dims = [rows, sequence, hidden];
      const pooled = { type: float, data: float === 'float16' ? new Uint16Array(rows * hidden) : new Float32Array(rows * hidden), dims: [rows, hidden] } as HostTensor;
      if (constant !== undefined) return { last_hidden_state: constant.get(dims, 0.7), pooler_output: pooled };
      const values = new Float64Array(rows * sequence * hidden);
      for (let r = 0; r < rows; r++) {
        for (let s = 0; s < sequence; s++) {
          const id = Number(ids.data[r * sequence + s]);
          for (let c = 0; c < hidden; c++) values[(r * sequence + s) * hidden + c] = Math.sin(id * 0.013 + s * 0.17 + c * 0.37) * 0.8;
        }
      }
      return { last_hidden_state: toTensor(float, values, dims), pooler_output: pooled };
    },
  );

  const unet = session(
    'stand-in/unet',
    [
      info('sample', float, ['batch', 4, 'height', 'width']),
      info('timestep', options.timestep ?? float, ['batch']),
      info('encoder_hidden_states', float, ['batch', 'sequence', hidden]),
    ],
    [info('out_sample', float, ['batch', 4, 'height', 'width'])],
    (feeds) => {
      calls.unet += 1;
      const sample = feeds['sample']!;
      if (constant !== undefined) return { out_sample: constant.get(sample.dims, 1.0) };
      const x = asFloat64(sample);
      const t = asFloat64(feeds['timestep']!)[0]!;
      const states = asFloat64(feeds['encoder_hidden_states']!);
      const rows = sample.dims[0]!;
      const rowSize = x.length / rows;
      const stateSize = states.length / rows;
      const out = new Float64Array(x.length);
      for (let r = 0; r < rows; r++) {
        // Each row's text conditioning shifts its prediction, so unconditional and conditional rows differ.
        let condition = 0;
        for (let k = 0; k < stateSize; k += 97) condition += states[r * stateSize + k]!;
        condition /= Math.ceil(stateSize / 97);
        for (let i = 0; i < rowSize; i++) {
          const v = x[r * rowSize + i]!;
          out[r * rowSize + i] = (v * t) / (t + 1) * 0.9 + condition * 0.3 + Math.sin(i * 0.01 + t * 0.001) * 0.05;
        }
      }
      return { out_sample: toTensor(float, out, sample.dims) };
    },
  );

  const vaeDecoder = session(
    'stand-in/vae_decoder',
    [info('latent_sample', float, ['batch', 4, 'height', 'width'])],
    [info('sample', float, ['batch', 3, 'height', 'width'])],
    (feeds) => {
      calls.vaeDecoder += 1;
      const latents = feeds['latent_sample']!;
      const [batch, channels, h, w] = latents.dims as [number, number, number, number];
      const dims = [batch, 3, h * 8, w * 8];
      if (constant !== undefined) return { sample: constant.get(dims, 1.1) };
      const z = asFloat64(latents);
      const out = new Float64Array(batch * 3 * h * 8 * w * 8);
      let at = 0;
      for (let b = 0; b < batch; b++) {
        for (let c = 0; c < 3; c++) {
          for (let y = 0; y < h * 8; y++) {
            for (let xx = 0; xx < w * 8; xx++) {
              const latent = z[((b * channels + c) * h + (y >> 3)) * w + (xx >> 3)]! + 0.25 * z[((b * channels + 3) * h + (y >> 3)) * w + (xx >> 3)]!;
              // Beyond ±1 near the edges of the range, so the pipeline's clip is exercised.
              out[at++] = Math.tanh(latent * 1.3 + (xx - y) * 0.004) * 1.08;
            }
          }
        }
      }
      return { sample: toTensor(float, out, dims) };
    },
  );
  return { textEncoder, unet, vaeDecoder, calls };
}

function session(
  path: string,
  inputs: TensorInfo[],
  outputs: TensorInfo[],
  run: (feeds: Readonly<Record<string, HostTensor>>) => Record<string, HostTensor>,
): ModelSession {
  const byName = (infos: TensorInfo[]) => Object.fromEntries(infos.map((i) => [i.name, i]));
  return {
    path,
    provider: 'cpu',
    inputs: byName(inputs),
    outputs: byName(outputs),
    inputNames: inputs.map((i) => i.name),
    outputNames: outputs.map((o) => o.name),
    async run(feeds) {
      for (const input of inputs) {
        const feed = feeds[input.name];
        if (feed === undefined || feed.type !== input.type) {
          throw new TypeError(`${path} input '${input.name}' must be ${input.type}, got ${feed?.type ?? 'nothing'}`);
        }
      }
      return run(feeds);
    },
    release: async () => {},
  };
}

function asFloat64(tensor: HostTensor): Float64Array {
  if (tensor.type === 'float16') return Float64Array.from(float16ToFloat32Array(tensor.data));
  if (tensor.type === 'int64') return Float64Array.from(tensor.data, Number);
  return Float64Array.from(tensor.data);
}

function toTensor(float: StandInFloat, values: Float64Array, dims: readonly number[]): HostTensor {
  const f32 = Float32Array.from(values);
  return float === 'float16' ? { type: 'float16', data: float32ToFloat16Array(f32), dims } : { type: 'float32', data: f32, dims };
}

/** Prepared outputs by shape: smooth values of the given amplitude, made once per shape. */
class ConstantOutputs {
  readonly #float: StandInFloat;
  readonly #byShape = new Map<string, HostTensor>();

  constructor(float: StandInFloat) {
    this.#float = float;
  }

  get(dims: readonly number[], amplitude: number): HostTensor {
    const key = dims.join('x');
    let tensor = this.#byShape.get(key);
    if (tensor === undefined) {
      const count = dims.reduce((a, b) => a * b, 1);
      const values = new Float64Array(count);
      for (let i = 0; i < count; i++) values[i] = Math.sin(i * 0.0137) * Math.cos(i * 0.00071) * amplitude;
      tensor = toTensor(this.#float, values, dims);
      this.#byShape.set(key, tensor);
    }
    return tensor;
  }
}
