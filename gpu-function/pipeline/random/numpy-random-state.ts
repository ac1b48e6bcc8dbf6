// A port of numpy's legacy `numpy.random.RandomState` for the draws Stable Diffusion needs:
// diffusers' OnnxStableDiffusionPipeline makes its initial latents with
// `np.random.RandomState(seed).randn(1, 4, h/8, w/8).astype(np.float32)`
// (diffusers/pipelines/stable_diffusion/pipeline_onnx_stable_diffusion.py), so porting the
// generator exactly is what lets a seed found in the Python world give the same picture here.
//
// Sources: numpy/random/mtrand.pyx (RandomState.randn, random_sample),
// numpy/random/src/legacy/legacy-distributions.c (legacy_gauss, legacy_double) and
// numpy/random/src/distributions/distributions.c (random_standard_uniform / mt19937_next_double).
import type { NormalSource } from '../types';
import { Mt19937 } from './mt19937';

/** 2^26 and 2^53: the 53-bit double is (a >> 5) · 2^26 + (b >> 6), divided by 2^53. */
const TWO_POW_26 = 67108864.0;
const TWO_POW_53 = 9007199254740992.0;

export class RandomState implements NormalSource {
  readonly #mt: Mt19937;
  /**
   * legacy_gauss makes normals in pairs and keeps the second one for the next call. The cache
   * lives in the generator state, so it survives across `randn` calls: `randn(3)` then `randn(3)`
   * equals `randn(6)`, exactly as in numpy.
   */
  #hasGauss = false;
  #gauss = 0;

  /** `seed`: an integer in [0, 2^32 − 1], as numpy's `RandomState(seed)` accepts. */
  constructor(seed: number) {
    this.#mt = new Mt19937(seed);
  }

  /**
   * `RandomState.random_sample(count)`: uniform doubles in [0, 1) with 53 random bits, made from
   * two 32-bit outputs (mt19937_next_double): 27 bits of the first, 26 of the second.
   */
  randomSample(count: number): Float64Array {
    checkCount(count);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = this.#nextDouble();
    return out;
  }

  /** `RandomState.randn(count)` in float64, numpy's own precision. */
  randnFloat64(count: number): Float64Array {
    checkCount(count);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = this.#nextGauss();
    return out;
  }

  /**
   * `RandomState.randn(count).astype(np.float32)`: computed in float64 and then rounded to the
   * nearest float32 (what both `astype` and a Float32Array store do: round half to even).
   */
  randn(count: number, out?: Float32Array): Float32Array {
    checkCount(count);
    if (out !== undefined && out.length !== count)
      throw new RangeError(`out holds ${out.length} values, count is ${count}`);
    const values = out ?? new Float32Array(count);
    let i = 0;
    if (count > 0 && this.#hasGauss) values[i++] = this.#nextGauss();
    // legacy_gauss in bulk (the Euler-ancestral and LCM steps draw a whole latent's worth per step),
    // a block of the generator's outputs at a time, read where they lie. Each attempt takes four 32-bit
    // outputs, and exactly as many are taken from the stream as attempts are made — at most one attempt
    // per two values still needed is started before the count is checked again — so the stream ends where
    // value-by-value drawing would leave it.
    const mt = this.#mt;
    while (i < count) {
      const first = mt.unread(4);
      const attempts = Math.min(Math.ceil((count - i) / 2), (mt.words.length - first) >>> 2);
      const end = first + 4 * attempts;
      // #nextGauss's point in [-1, 1)² for each attempt, those inside the unit circle kept (Mt19937's
      // polarPoints: WebAssembly SIMD, or its JavaScript reference).
      const kept = mt.polarPoints(first, end);
      mt.readTo(end);
      // Two normals per point, f·x2 then f·x1 (Mt19937.normals). Only the last point of the last run can
      // give one more value than `count` wants: that one is kept for the next call, as legacy_gauss does.
      const pairs = Math.min(kept, (count - i) >>> 1);
      mt.normals(pairs, values, i);
      i += 2 * pairs;
      const points = mt.points;
      const radii = mt.radii;
      if (pairs < kept) {
        const r2 = radii[pairs]!;
        const f = Math.sqrt((-2.0 * Math.log(r2)) / r2);
        values[i++] = f * points[2 * pairs + 1]!;
        this.#gauss = f * points[2 * pairs]!;
        this.#hasGauss = true;
      }
    }
    return values;
  }

  #nextDouble(): number {
    const a = this.#mt.nextUint32() >>> 5;
    const b = this.#mt.nextUint32() >>> 6;
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  /**
   * legacy_gauss: Marsaglia's polar form of the Box–Muller transform. Draw a point in the square
   * [-1, 1)², reject it unless 0 < r² < 1, then return f·x2 and keep f·x1 for the next call.
   */
  #nextGauss(): number {
    if (this.#hasGauss) {
      this.#hasGauss = false;
      const cached = this.#gauss;
      this.#gauss = 0;
      return cached;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2.0 * this.#nextDouble() - 1.0;
      x2 = 2.0 * this.#nextDouble() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 === 0.0);
    const f = Math.sqrt((-2.0 * Math.log(r2)) / r2);
    this.#gauss = f * x1;
    this.#hasGauss = true;
    return f * x2;
  }
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  }
}
