// The single boundary to onnxruntime-node: the only module that imports it (as transformers.js keeps
// one `backends/onnx.js`). It picks the execution provider, opens sessions with settings that suit a
// warm service, and moves tensors across as plain typed arrays + dims (HostTensor), so the tokenizer,
// schedulers and the denoising loop never see an ORT type. Input names, dtypes and ranks come from
// `session.inputMetadata` (diffusers' OnnxRuntimeModel does the same with `get_inputs()`), and the helpers
// below build a tensor of whatever dtype the graph declares, float16 included.
import { availableParallelism } from 'node:os';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { float16ToFloat32Array, float32ToFloat16Array } from './float16';

/** Tensors as plain data. float16 travels as its bit patterns in a Uint16Array (Node 20 has no Float16Array). */
export type HostTensor =
  | { readonly type: 'float32'; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: 'float16'; readonly data: Uint16Array; readonly dims: readonly number[] }
  | { readonly type: 'float64'; readonly data: Float64Array; readonly dims: readonly number[] }
  | { readonly type: 'int32'; readonly data: Int32Array; readonly dims: readonly number[] }
  | { readonly type: 'int64'; readonly data: BigInt64Array; readonly dims: readonly number[] };
export type HostTensorType = HostTensor['type'];
export const HOST_TENSOR_TYPES: readonly HostTensorType[] = ['float32', 'float16', 'float64', 'int32', 'int64'];

/** An input or output as the graph declares it. */
export interface TensorInfo {
  readonly name: string;
  /** ONNX element type in onnxruntime's spelling ('float32', 'float16', 'int64', 'bool', …). */
  readonly type: string;
  /** Dimensions: a number when fixed, the symbolic name (e.g. 'batch') when free. Empty for a scalar. */
  readonly shape: readonly (number | string)[];
  readonly rank: number;
}

export type ExecutionProviderSetting = 'auto' | 'cuda' | 'cpu';
export type ExecutionProvider = 'cuda' | 'cpu';

export interface OpenModelOptions {
  /** `auto` tries CUDA and falls back to the CPU with one log line; `cuda` fails when CUDA cannot be used. */
  readonly provider: ExecutionProviderSetting;
  /**
   * Threads for one operator. @default os.availableParallelism() on the CPU; 1 on CUDA, where only the
   * few nodes CUDA does not take (shape arithmetic) run on the CPU (see sessionOptionsFor).
   */
  readonly intraOpThreads?: number;
  /** CUDA device. @default 0 */
  readonly deviceId?: number;
  readonly log: (line: string) => void;
}

export interface ModelSession {
  readonly path: string;
  /** The provider the session really runs on. */
  readonly provider: ExecutionProvider;
  readonly inputs: Readonly<Record<string, TensorInfo>>;
  readonly outputs: Readonly<Record<string, TensorInfo>>;
  /** Input and output names in the order the graph declares them. */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph. Every declared input must be fed, in its declared dtype and rank. */
  run(feeds: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

/** Why CUDA could not be used, once 'auto' has found out; later 'auto' sessions go straight to the CPU. */
let cudaUnavailable: string | undefined;

export async function openModelSession(modelPath: string, options: OpenModelOptions): Promise<ModelSession> {
  const onCpu = { ...sessionOptionsFor('cpu', options), executionProviders: ['cpu'] };
  if (options.provider === 'cpu' || (options.provider === 'auto' && cudaUnavailable !== undefined)) {
    return wrap(modelPath, 'cpu', await create(modelPath, onCpu));
  }
  const cuda = { ...sessionOptionsFor('cuda', options), executionProviders: [{ name: 'cuda', deviceId: options.deviceId ?? 0 }] };
  try {
    // onnxruntime's own logger may also print why the CUDA library did not load (its default logger,
    // which session options do not silence); the line below is the one to read.
    return wrap(modelPath, 'cuda', await InferenceSession.create(modelPath, cuda));
  } catch (error) {
    const reason = messageOf(error);
    if (options.provider === 'cuda') {
      throw new Error(
        `EXECUTION_PROVIDER=cuda, but onnxruntime could not use CUDA for ${modelPath}: ${reason}. ` +
          'CUDA needs an NVIDIA GPU and driver, CUDA 12 + cuDNN 9, and the CUDA build of onnxruntime-node ' +
          '(install with ONNXRUNTIME_NODE_INSTALL=cuda12); EXECUTION_PROVIDER=auto falls back to the CPU.',
      );
    }
    cudaUnavailable = reason;
    options.log(`onnxruntime: CUDA is not available (${reason}); running on the CPU (EXECUTION_PROVIDER=auto)`);
    return wrap(modelPath, 'cpu', await create(modelPath, onCpu));
  }
}

/**
 * Session settings per execution provider (docs/gpu-performance.md, "Session settings").
 *
 * On the CPU the networks are the work: each operator spreads over every core, and onnxruntime's
 * threads spin between operators (its default), trading some CPU for latency.
 *
 * On CUDA the GPU does the work and the CPU's job is to launch kernels and run the service's own
 * JavaScript: the pipeline's loop in its worker thread, HTTP and PNG encoding on the main thread, zlib on
 * libuv's pool. onnxruntime's intra-op pool then only runs the few nodes CUDA does not take (shape
 * arithmetic), and a pool of all cores that spins between them (onnxruntime spins for a while before it
 * sleeps) would take cores from exactly that JavaScript. So: one thread unless INTRA_OP_THREADS says
 * otherwise (the calling thread itself, no pool), and no spinning
 * (`session.intra_op.allow_spinning` / `session.inter_op.allow_spinning` = 0, onnxruntime's
 * session-option config keys).
 */
export function sessionOptionsFor(provider: ExecutionProvider, options: Pick<OpenModelOptions, 'intraOpThreads'>): InferenceSession.SessionOptions {
  const intraOpThreads = options.intraOpThreads ?? (provider === 'cuda' ? 1 : availableParallelism());
  if (!Number.isInteger(intraOpThreads) || intraOpThreads < 1) {
    throw new RangeError(`intraOpThreads must be a positive integer, got ${intraOpThreads}`);
  }
  return {
    graphOptimizationLevel: 'all',
    // One operator at a time, each spread over the cores: the SD graphs are long chains, so parallel
    // execution of independent nodes gains little and would oversubscribe the CPU.
    executionMode: 'sequential',
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    // The loop runs the same shapes every step: the arena keeps freed blocks for the next step. Without
    // it every run maps and faults in fresh pages: ~10× slower on tiny-sd (RELIABILITY.md, "Memory").
    enableCpuMemArena: true,
    // The memory pattern (one planned block per input shape, replayed) doubled the CPU's peak on
    // tiny-sd at 512² (7.0 GB against 3.6 GB, kept by the arena, growing with each new shape) and was
    // no faster there; on CUDA it stays on (not measured there).
    enableMemPattern: provider === 'cuda',
    logSeverityLevel: 3,
    ...(provider === 'cuda' ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
  };
}

async function create(modelPath: string, options: InferenceSession.SessionOptions): Promise<InferenceSession> {
  try {
    // A path, not bytes: onnxruntime then finds external data (`weights.pb`, `model.onnx_data`) in the
    // graph file's folder, and maps the weights instead of copying them through the JS heap.
    return await InferenceSession.create(modelPath, options);
  } catch (error) {
    throw new Error(`onnxruntime could not load ${modelPath}: ${messageOf(error)}`);
  }
}

function wrap(path: string, provider: ExecutionProvider, session: InferenceSession): ModelSession {
  const inputs = infoByName(session.inputMetadata);
  const outputs = infoByName(session.outputMetadata);
  return {
    path,
    provider,
    inputs,
    outputs,
    inputNames: Object.freeze([...session.inputNames]),
    outputNames: Object.freeze([...session.outputNames]),
    async run(feeds) {
      const ortFeeds: Record<string, Tensor> = {};
      for (const [name, tensor] of Object.entries(feeds)) {
        const info = inputs[name];
        if (info === undefined) {
          throw new TypeError(`${path} has no input '${name}' (it takes ${Object.keys(inputs).join(', ')})`);
        }
        checkFeed(path, info, tensor);
        ortFeeds[name] = new Tensor(tensor.type, tensor.data, tensor.dims);
      }
      const missing = Object.keys(inputs).filter((name) => feeds[name] === undefined);
      if (missing.length > 0) throw new TypeError(`${path} needs input ${missing.join(', ')}`);
      const results = await session.run(ortFeeds);
      const out: Record<string, HostTensor> = {};
      for (const [name, value] of Object.entries(results)) out[name] = fromOrt(path, name, value);
      return out;
    },
    release: () => session.release(),
  };
}

function infoByName(metadata: readonly InferenceSession.ValueMetadata[]): Readonly<Record<string, TensorInfo>> {
  const byName: Record<string, TensorInfo> = {};
  for (const value of metadata) {
    const shape = value.isTensor ? [...value.shape] : [];
    byName[value.name] = Object.freeze({
      name: value.name,
      type: value.isTensor ? value.type : 'non-tensor',
      shape,
      rank: shape.length,
    });
  }
  return Object.freeze(byName);
}

function checkFeed(path: string, info: TensorInfo, tensor: HostTensor): void {
  if (tensor.type !== info.type) {
    throw new TypeError(`${path} input '${info.name}' is ${info.type}, got ${tensor.type} (build it with inputTensor)`);
  }
  const fixedMismatch = info.shape.some((dim, i) => typeof dim === 'number' && dim !== tensor.dims[i]);
  if ((info.rank > 0 && tensor.dims.length !== info.rank) || fixedMismatch) {
    throw new TypeError(
      `${path} input '${info.name}' has shape [${info.shape.join(', ')}], got [${tensor.dims.join(', ')}]`,
    );
  }
}

function fromOrt(path: string, name: string, value: unknown): HostTensor {
  if (!(value instanceof Tensor)) throw new TypeError(`${path} output '${name}' is not a tensor`);
  const dims = [...value.dims];
  switch (value.type) {
    case 'float32':
      return { type: 'float32', data: value.data as Float32Array, dims };
    case 'float16': {
      // Uint16Array on Node 20; a Float16Array where the runtime has one: hand over the raw bits either way.
      const data = value.data as unknown as ArrayBufferView;
      return { type: 'float16', data: new Uint16Array(data.buffer, data.byteOffset, value.size), dims };
    }
    case 'float64':
      return { type: 'float64', data: value.data as Float64Array, dims };
    case 'int32':
      return { type: 'int32', data: value.data as Int32Array, dims };
    case 'int64':
      return { type: 'int64', data: value.data as BigInt64Array, dims };
    default:
      throw new TypeError(`${path} output '${name}' is ${value.type}, which the pipeline does not read`);
  }
}

/**
 * A tensor of the given dtype from float32 data or JS numbers. Integer dtypes truncate toward zero, as
 * diffusers' `np.array([t], dtype=timestep_dtype)` does with a fractional timestep.
 */
export function makeTensor<T extends HostTensorType>(
  type: T,
  values: Float32Array | ArrayLike<number>,
  dims: readonly number[],
): Extract<HostTensor, { type: T }> {
  return buildTensor(type, values, dims) as Extract<HostTensor, { type: T }>;
}

function buildTensor(type: HostTensorType, values: Float32Array | ArrayLike<number>, dims: readonly number[]): HostTensor {
  const count = dims.reduce((product, dim) => product * dim, 1);
  if (!dims.every((dim) => Number.isInteger(dim) && dim >= 0) || count !== values.length) {
    throw new RangeError(`dims [${dims.join(', ')}] do not hold ${values.length} values`);
  }
  const frozenDims = Object.freeze([...dims]);
  switch (type) {
    case 'float32':
      return { type, data: values instanceof Float32Array ? values : Float32Array.from(values), dims: frozenDims };
    case 'float16': {
      const float32 = values instanceof Float32Array ? values : Float32Array.from(values);
      return { type, data: float32ToFloat16Array(float32), dims: frozenDims };
    }
    case 'float64':
      return { type, data: Float64Array.from(values), dims: frozenDims };
    case 'int32':
      return { type, data: Int32Array.from(values, (v) => toInteger(v, 2 ** 31)), dims: frozenDims };
    case 'int64':
      return { type, data: BigInt64Array.from(values, (v) => BigInt(toInteger(v, 2 ** 63))), dims: frozenDims };
  }
}

function toInteger(value: number, limit: number): number {
  const integer = Math.trunc(value);
  if (!Number.isFinite(integer) || integer < -limit || integer >= limit) {
    throw new RangeError(`${value} does not fit an integer tensor`);
  }
  return integer;
}

/** A tensor for a session input, in the dtype the graph declares for it. */
export function inputTensor(
  session: Pick<ModelSession, 'path' | 'inputs'>,
  name: string,
  values: Float32Array | ArrayLike<number>,
  dims: readonly number[],
): HostTensor {
  const info = session.inputs[name];
  if (info === undefined) throw new TypeError(`${session.path} has no input '${name}'`);
  if (!isHostTensorType(info.type)) {
    throw new TypeError(`${session.path} input '${name}' is ${info.type}, which the pipeline cannot build`);
  }
  return makeTensor(info.type, values, dims);
}

/**
 * Another graph's output as a feed for `session`'s input `name`: as it is when the dtypes agree (an fp16
 * text encoder's embeddings go to an fp16 UNet untouched), else converted as inputTensor(readFloat32(…))
 * would. Passing float16 through is exact: decoding to float32 and encoding back gives the same bits.
 */
export function feedFrom(session: Pick<ModelSession, 'path' | 'inputs'>, name: string, tensor: HostTensor): HostTensor {
  const info = session.inputs[name];
  if (info === undefined) throw new TypeError(`${session.path} has no input '${name}'`);
  if (info.type === tensor.type) return tensor;
  return inputTensor(session, name, readFloat32(tensor), tensor.dims);
}

export function isHostTensorType(type: string): type is HostTensorType {
  return (HOST_TENSOR_TYPES as readonly string[]).includes(type);
}

/** Any tensor's values as float32: float32 as is (no copy), float16 decoded exactly, others converted. */
export function readFloat32(tensor: HostTensor): Float32Array {
  switch (tensor.type) {
    case 'float32':
      return tensor.data;
    case 'float16':
      return float16ToFloat32Array(tensor.data);
    case 'float64':
    case 'int32':
      return Float32Array.from(tensor.data);
    case 'int64':
      return Float32Array.from(tensor.data, (v) => Number(v));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
