// The Mersenne Twister MT19937 exactly as numpy's legacy RandomState drives it: scalar seeding
// with init_genrand and tempered 32-bit outputs. A port of numpy/random/src/mt19937/mt19937.c
// (mt19937_seed, mt19937_gen, mt19937_next), itself Matsumoto & Nishimura's 1998 reference code.
//
// The block step, and the first half of randn's bulk legacy_gauss (its candidate points), run as
// WebAssembly SIMD (mt19937.wat, in this thread's workspace: mt19937-simd.ts) where the runtime has it;
// twistAndTemper and polarPoints below are the references and the fallback.
import { type SimdWorkspace, simdWorkspace } from './mt19937-simd';

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
/** 2^26, and 2 / 2^53: mt19937_next_double's (a >>> 5)·2^26 + (b >>> 6), then its scale times two. */
const TWO_POW_26 = 67108864.0;
const TWO_POW_MINUS_52 = 2 ** -52;
/**
 * Room in front of each block of outputs for up to CARRY unread words of the block before, so that a bulk
 * reader that takes words in groups (legacy_gauss takes four) always finds a group in one run of memory.
 */
const CARRY = 4;
const END = CARRY + N;
/** At most this many points from one run of `words` (four words each). */
const MAX_POINTS = END >>> 2;

/** One MT19937 stream; `nextUint32()` gives the same sequence as numpy's `mt19937_next32`. */
export class Mt19937 {
  /** The state (int32 words), here while the SIMD workspace does not hold it. */
  readonly #key = new Int32Array(N);
  readonly #ownWords = new Uint32Array(END);
  readonly #ownPoints = new Float64Array(2 * MAX_POINTS);
  readonly #ownRadii = new Float64Array(MAX_POINTS);
  /** The arrays in use: this generator's own, or the SIMD workspace's while this generator owns it. */
  #words: Uint32Array = this.#ownWords;
  #points: Float64Array = this.#ownPoints;
  #radii: Float64Array = this.#ownRadii;
  /** Index in `words` of the next output. */
  #pos = END;
  readonly #simd: SimdWorkspace | undefined;

  /**
   * numpy's `_legacy_seeding` passes an integer seed in [0, 2^32 − 1] to `mt19937_seed`, which is
   * Matsumoto & Nishimura's `init_genrand` (the seed array form, `init_by_array`, is only used for
   * array seeds, which this port does not take). `simd: false` keeps to the JavaScript steps (the tests
   * compare the two).
   */
  constructor(seed: number, options: { readonly simd?: boolean } = {}) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an integer in [0, 4294967295], got ${seed}`);
    }
    this.#simd = (options.simd ?? true) ? simdWorkspace(CARRY, MAX_POINTS) : undefined;
    const key = this.#key;
    let s = seed >>> 0;
    for (let pos = 0; pos < N; pos++) {
      key[pos] = s;
      // (1812433253 * (s ^ (s >> 30)) + pos + 1) mod 2^32; Math.imul keeps the product in 32 bits.
      s = (Math.imul(1812433253, (s ^ (s >>> 30)) >>> 0) + pos + 1) >>> 0;
    }
  }

  /** Whether the steps run as WebAssembly SIMD here. */
  get simd(): boolean {
    return this.#simd !== undefined;
  }

  /**
   * The current block's outputs at [CARRY, END), tempered when the block is made; bulk readers read them
   * in place (see `unread`). Words before CARRY are the previous block's last, carried over. The array
   * can change when the block does: take it again after `unread`.
   */
  get words(): Uint32Array {
    return this.#words;
  }

  /** polarPoints' x1, x2 of each point kept, side by side, and its r² (`radii`): read them right after. */
  get points(): Float64Array {
    return this.#points;
  }

  get radii(): Float64Array {
    return this.#radii;
  }

  /** The next tempered 32-bit output (an unsigned integer). */
  nextUint32(): number {
    if (this.#pos === END) this.#regenerate();
    return this.#words[this.#pos++]!;
  }

  /**
   * For readers that take outputs in bulk, straight from `words` (the noise of Euler-ancestral and LCM
   * steps needs tens of thousands per step at 512², where a call per output is most of the cost): makes at
   * least `group` (1 to 4) unread outputs sit one after another in `words` and returns the index of the
   * first. The unread ones run up to `words.length`; say how far they were read with `readTo`.
   */
  unread(group: number): number {
    const left = END - this.#pos;
    if (left >= group) return this.#pos;
    // Too few left in this block for a group: carry them in front of the next one.
    this.#words.copyWithin(CARRY - left, this.#pos, END);
    this.#regenerate();
    this.#pos = CARRY - left;
    return this.#pos;
  }

  /** Marks the outputs before `index` in `words` as read (index: from `unread`, up to `words.length`). */
  readTo(index: number): void {
    this.#pos = index;
  }

  /**
   * legacy_gauss's candidate points from the outputs words[first, end) (indices from `unread`, four words
   * a point; the caller then marks them read): the points inside the unit circle into `points` and
   * `radii` from index 0; returns how many. See polarPoints below.
   */
  polarPoints(first: number, end: number): number {
    const simd = this.#simd;
    if (simd === undefined) return polarPoints(this.#words, first, end, this.#points, this.#radii);
    this.#own(simd);
    return simd.polarPoints(first, end);
  }

  /**
   * legacy_gauss's second half for the first `count` points of the last polarPoints: f = √(−2·ln r² / r²),
   * then f·x2 and f·x1, into out[at…at + 2·count) (float32, rounded as a Float32Array store rounds).
   * The logarithm is always JavaScript's Math.log; the rest runs as SIMD where the workspace is.
   */
  normals(count: number, out: Float32Array, at: number): void {
    const simd = this.#simd;
    if (simd === undefined) {
      polarNormals(this.#points, this.#radii, count, out, at);
      return;
    }
    this.#own(simd);
    const { radii, logs } = simd;
    for (let p = 0; p < count; p++) logs[p] = Math.log(radii[p]!);
    simd.makeNormals(count);
    out.set(simd.normals.subarray(0, 2 * count), at);
  }

  #regenerate(): void {
    const simd = this.#simd;
    if (simd === undefined) {
      twistAndTemper(this.#key, this.#words);
    } else {
      this.#own(simd);
      simd.generate();
    }
    this.#pos = CARRY;
  }

  /** Moves this generator's state and outputs into the SIMD workspace, the previous owner's out. */
  #own(simd: SimdWorkspace): void {
    if (simd.owner === this) return;
    if (simd.owner instanceof Mt19937) simd.owner.#disown(simd);
    simd.key.set(this.#key);
    simd.words.set(this.#words);
    this.#words = simd.words;
    this.#points = simd.points;
    this.#radii = simd.radii;
    simd.owner = this;
  }

  #disown(simd: SimdWorkspace): void {
    this.#key.set(simd.key);
    this.#ownWords.set(simd.words);
    this.#words = this.#ownWords;
    this.#points = this.#ownPoints;
    this.#radii = this.#ownRadii;
    simd.owner = undefined;
  }
}

/**
 * mt19937_gen, refilling all 624 words of state at once, and mt19937_next's tempering of each word, in
 * the same pass, the outputs into words[CARRY…]. The reference's `(y & 1) ? MATRIX_A : 0` is written as a
 * mask, `-(y & 1) & MATRIX_A` (all ones or all zeros, then AND): the same word, without a branch that
 * random bits make the CPU mispredict half the time (the branching form took five times as long).
 */
export function twistAndTemper(key: Int32Array, words: Uint32Array): void {
  let i = 0;
  for (; i < N - M; i++) {
    const y = (key[i]! & UPPER_MASK) | (key[i + 1]! & LOWER_MASK);
    const next = key[i + M]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    key[i] = next;
    words[CARRY + i] = temper(next);
  }
  for (; i < N - 1; i++) {
    const y = (key[i]! & UPPER_MASK) | (key[i + 1]! & LOWER_MASK);
    const next = key[i + (M - N)]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    key[i] = next;
    words[CARRY + i] = temper(next);
  }
  const y = (key[N - 1]! & UPPER_MASK) | (key[0]! & LOWER_MASK);
  const next = key[M - 1]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
  key[N - 1] = next;
  words[CARRY + N - 1] = temper(next);
}

/**
 * The first half of numpy's legacy_gauss for a run of attempts: each takes two doubles of
 * mt19937_next_double (53 bits from two outputs: (a >>> 5)·2^26 + (b >>> 6), over 2^53) and maps them to
 * [-1, 1)², where 2·(n / 2^53) − 1 is written n·2^-52 − 1, the same double (scaling by a power of two is
 * exact); points with 0 < r² < 1 are kept, the others written and then overwritten, rather than branched
 * around (a branch taken at random a fifth of the time costs more than the stores).
 */
export function polarPoints(
  words: Uint32Array,
  first: number,
  end: number,
  points: Float64Array,
  radii: Float64Array,
): number {
  let kept = 0;
  for (let k = first; k < end; k += 4) {
    const x1 = ((words[k]! >>> 5) * TWO_POW_26 + (words[k + 1]! >>> 6)) * TWO_POW_MINUS_52 - 1.0;
    const x2 = ((words[k + 2]! >>> 5) * TWO_POW_26 + (words[k + 3]! >>> 6)) * TWO_POW_MINUS_52 - 1.0;
    const r2 = x1 * x1 + x2 * x2;
    points[2 * kept] = x1;
    points[2 * kept + 1] = x2;
    radii[kept] = r2;
    kept += r2 < 1.0 && r2 !== 0.0 ? 1 : 0;
  }
  return kept;
}

/** Mt19937.normals without SIMD, and its reference. */
export function polarNormals(
  points: Float64Array,
  radii: Float64Array,
  count: number,
  out: Float32Array,
  at: number,
): void {
  let i = at;
  for (let p = 0; p < count; p++) {
    const r2 = radii[p]!;
    const f = Math.sqrt((-2.0 * Math.log(r2)) / r2);
    out[i++] = f * points[2 * p + 1]!;
    out[i++] = f * points[2 * p]!;
  }
}

/** mt19937_next's tempering of one state word (stored as int32; the Uint32Array store makes it unsigned). */
function temper(word: number): number {
  let t = word;
  t ^= t >>> 11;
  t ^= (t << 7) & 0x9d2c5680;
  t ^= (t << 15) & 0xefc60000;
  return t ^ (t >>> 18);
}
