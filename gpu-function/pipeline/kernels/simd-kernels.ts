// The WebAssembly SIMD kernels of float32-kernels.wat, for the denoising loop's three per-element passes
// that run every step on the GPU's critical path: the UNet input's float32 → float16 conversion,
// classifier-free guidance of a float16 UNet output, and PNDM's PLMS step (issue #12). Each gives the
// same bits as its JavaScript reference (float16.ts, classifier-free-guidance.ts, pndm.ts), four lanes at
// a time; the references stay, for the rare lanes a kernel lists back (float16 zeros, subnormals,
// infinities, NaN) and for machines without WebAssembly SIMD.
//
// The module has one linear memory, the kernels' scratch space: each call copies its inputs in (a native
// memcpy, about a microsecond for a 64×64 latent), runs, and copies the result out, so callers keep their
// own Float32Arrays and nothing else about them changes. One instance per thread (the pipeline runs in a
// worker thread; the main thread never calls these).
import { FLOAT32_KERNELS_WASM_BASE64 } from './float32-kernels.generated';

// The project's TypeScript libraries (ES2023, @types/node 20) declare no WebAssembly API; the few parts used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const { WebAssembly: wasm } = globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object) => { readonly exports: unknown };
  };
};

const PAGE_BYTES = 65_536;
const LANES = 4;

interface KernelExports {
  readonly memory: WasmMemory;
  plms4(
    e1: number,
    e2: number,
    e3: number,
    e4: number,
    x: number,
    out: number,
    count: number,
    w: number,
    sampleCoeff: number,
    diff: number,
    denom: number,
  ): void;
  plmsEarly(
    order: number,
    a: number,
    b: number,
    c: number,
    x: number,
    out: number,
    count: number,
    sampleCoeff: number,
    diff: number,
    denom: number,
  ): void;
  guidanceFloat16(uncond: number, cond: number, out: number, count: number, scale: number, specials: number): number;
  float32ToFloat16(values: number, out: number, count: number, specials: number): number;
  float16ToRgb8(planes: number, levels: number, out: number, pixels: number): void;
  float16HasNaN(at: number, count: number): number;
}

/** PLMS's per-step scalars, as pndm.ts computes them (each already a float32). */
export interface PlmsCoefficients {
  readonly w: number;
  readonly sampleCoeff: number;
  readonly diff: number;
  readonly denom: number;
}

export class Float32Kernels {
  readonly #exports: KernelExports;

  private constructor(exports: KernelExports) {
    this.#exports = exports;
  }

  /** The kernels, or undefined where this runtime has no WebAssembly SIMD (callers then use the references). */
  static load(): Float32Kernels | undefined {
    try {
      const bytes = Buffer.from(FLOAT32_KERNELS_WASM_BASE64, 'base64');
      const instance = new wasm.Instance(new wasm.Module(bytes));
      return new Float32Kernels(instance.exports as unknown as KernelExports);
    } catch {
      return undefined;
    }
  }

  /** PLMS with four past model outputs e1 (newest) … e4: the next sample into `out`. */
  plms4(
    e: readonly [Float32Array, Float32Array, Float32Array, Float32Array],
    sample: Float32Array,
    out: Float32Array,
    k: PlmsCoefficients,
  ): void {
    const count = sample.length;
    const [at, memory] = this.#layout(count * 4, 6);
    const f32 = new Float32Array(memory.buffer);
    e.forEach((values, i) => f32.set(values, at[i]! / 4));
    f32.set(sample, at[4]! / 4);
    this.#exports.plms4(
      at[0]!,
      at[1]!,
      at[2]!,
      at[3]!,
      at[4]!,
      at[5]!,
      padded(count),
      k.w,
      k.sampleCoeff,
      k.diff,
      k.denom,
    );
    out.set(f32.subarray(at[5]! / 4, at[5]! / 4 + count));
  }

  /**
   * PLMS's first four steps (fewer than four past outputs): `order` 0 steps with `e[0]` as the noise, 1 with
   * the mean of `e[0]` and `e[1]`, 2 and 3 with the two- and three-term Adams–Bashforth sums (pndm.ts).
   */
  plmsEarly(
    order: 0 | 1 | 2 | 3,
    e: readonly Float32Array[],
    sample: Float32Array,
    out: Float32Array,
    k: Omit<PlmsCoefficients, 'w'>,
  ): void {
    const count = sample.length;
    const terms = [1, 2, 2, 3][order]!;
    const [at, memory] = this.#layout(count * 4, 5);
    const f32 = new Float32Array(memory.buffer);
    for (let i = 0; i < terms; i++) f32.set(e[i]!, at[i]! / 4);
    f32.set(sample, at[3]! / 4);
    this.#exports.plmsEarly(
      order,
      at[0]!,
      at[1]!,
      at[2]!,
      at[3]!,
      at[4]!,
      padded(count),
      k.sampleCoeff,
      k.diff,
      k.denom,
    );
    out.set(f32.subarray(at[4]! / 4, at[4]! / 4 + count));
  }

  /**
   * `uncond + scale · (cond − uncond)` of two float16 rows (`halves` from `uncondStart` and `condStart`,
   * `out.length` values each) into `out`. Returns the first element of every group of four the caller
   * must recompute (a lane that is not a normal float16), in increasing order.
   */
  guidanceFloat16(
    halves: Uint16Array,
    uncondStart: number,
    condStart: number,
    scale: number,
    out: Float32Array,
  ): number[] {
    const count = out.length;
    const [at, memory] = this.#layout(count * 4, 3, padded(count));
    const u16 = new Uint16Array(memory.buffer);
    u16.set(halves.subarray(uncondStart, uncondStart + count), at[0]! / 2);
    u16.set(halves.subarray(condStart, condStart + count), at[1]! / 2);
    const listed = this.#exports.guidanceFloat16(at[0]!, at[1]!, at[2]!, padded(count), scale, at[3]!);
    out.set(new Float32Array(memory.buffer, at[2]!, count));
    return this.#specials(memory, at[3]!, listed, count);
  }

  /** float32 → float16 bits into `out`; returns the first element of every group of four the caller must recompute. */
  float32ToFloat16(values: Float32Array, out: Uint16Array): number[] {
    const count = values.length;
    const [at, memory] = this.#layout(count * 4, 2, padded(count));
    new Float32Array(memory.buffer).set(values, at[0]! / 4);
    const listed = this.#exports.float32ToFloat16(at[0]!, at[1]!, padded(count), at[2]!);
    out.set(new Uint16Array(memory.buffer, at[1]!, count));
    return this.#specials(memory, at[2]!, listed, count);
  }

  /**
   * One image of a float16 decoder output, its three planes side by side in `planes` (NCHW), as row-major
   * RGB8 into `out` (image/to-rgb8.ts's unitToByte of every value, no lane listed back). Returns whether
   * the image holds a NaN, checked on the way, so the picture costs one copy in and one out. The plane
   * must be a whole number of sixteen pixels (any width and height that are multiples of 8).
   */
  float16ImageToRgb8(planes: Uint16Array, out: Uint8Array): boolean {
    const plane = out.length / 3;
    if (plane % 16 !== 0 || planes.length !== 3 * plane) {
      throw new RangeError(
        `float16ImageToRgb8 takes 3 planes of a multiple of 16 pixels, got ${planes.length} values for ${out.length} bytes`,
      );
    }
    // The planes, then the byte planes of their levels, then the pixels.
    const [levels, at] = [planes.byteLength, planes.byteLength + out.length];
    const memory = this.#reserve(at + out.length);
    new Uint16Array(memory.buffer).set(planes);
    const exports = this.#exports;
    exports.float16ToRgb8(0, levels, at, plane);
    out.set(new Uint8Array(memory.buffer, at, out.length));
    return exports.float16HasNaN(0, planes.length) !== 0;
  }

  /** Group indices listed by a kernel, as first elements, leaving out groups wholly in the padding. */
  #specials(memory: WasmMemory, at: number, listed: number, count: number): number[] {
    const groups = new Int32Array(memory.buffer, at, listed);
    const starts: number[] = [];
    for (const group of groups) if (group * LANES < count) starts.push(group * LANES);
    return starts;
  }

  /**
   * Byte offsets of `regions` regions of `bytes` each (16-byte aligned, padded to whole groups of four
   * float32s), then a list of `specials` group indices; grows the memory to fit.
   */
  #layout(bytes: number, regions: number, specials = 0): [number[], WasmMemory] {
    const stride = Math.ceil(bytes / 16) * 16;
    const at = Array.from({ length: regions + (specials > 0 ? 1 : 0) }, (_, i) => i * stride);
    return [at, this.#reserve(regions * stride + (specials / LANES) * 4 + 16)];
  }

  /** The memory, grown to at least `bytes`. */
  #reserve(bytes: number): WasmMemory {
    const memory = this.#exports.memory;
    if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
    return memory;
  }
}

/** A count rounded up to whole groups of four lanes (the padding lanes compute on whatever is there). */
function padded(count: number): number {
  return Math.ceil(count / LANES) * LANES;
}

let loaded: Float32Kernels | null | undefined;
let enabled = true;

/** This thread's kernels, loaded on first use; undefined without WebAssembly SIMD (or while turned off). */
export function float32Kernels(): Float32Kernels | undefined {
  if (!enabled) return undefined;
  if (loaded === undefined) loaded = Float32Kernels.load() ?? null;
  return loaded ?? undefined;
}

/**
 * Turns the kernels off (or on again) in this thread, so the JavaScript references run everywhere: the
 * tests compare both paths bit for bit, and bench/cpu-overhead.ts measures what the kernels save.
 */
export function setFloat32KernelsEnabled(on: boolean): void {
  enabled = on;
}
