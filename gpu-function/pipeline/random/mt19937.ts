// The Mersenne Twister MT19937 exactly as numpy's legacy RandomState drives it: scalar seeding
// with init_genrand and tempered 32-bit outputs. A port of numpy/random/src/mt19937/mt19937.c
// (mt19937_seed, mt19937_gen, mt19937_next), itself Matsumoto & Nishimura's 1998 reference code.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** One MT19937 stream; `nextUint32()` gives the same sequence as numpy's `mt19937_next32`. */
export class Mt19937 {
  readonly #key = new Uint32Array(N);
  #pos = N;
  /** The current block's outputs, tempered once when the block is made (bulk readers take them from here). */
  readonly #tempered = new Uint32Array(N);

  /**
   * numpy's `_legacy_seeding` passes an integer seed in [0, 2^32 − 1] to `mt19937_seed`, which is
   * Matsumoto & Nishimura's `init_genrand` (the seed array form, `init_by_array`, is only used for
   * array seeds, which this port does not take).
   */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an integer in [0, 4294967295], got ${seed}`);
    }
    const key = this.#key;
    let s = seed >>> 0;
    for (let pos = 0; pos < N; pos++) {
      key[pos] = s;
      // (1812433253 * (s ^ (s >> 30)) + pos + 1) mod 2^32; Math.imul keeps the product in 32 bits.
      s = (Math.imul(1812433253, (s ^ (s >>> 30)) >>> 0) + pos + 1) >>> 0;
    }
    this.#pos = N;
  }

  /** The next tempered 32-bit output (an unsigned integer). */
  nextUint32(): number {
    if (this.#pos === N) this.#regenerate();
    return this.#tempered[this.#pos++]!;
  }

  /**
   * The next `count` outputs into `out` from `offset` on: the same values as `count` calls of
   * nextUint32, copied a block at a time (the noise of Euler-ancestral and LCM steps needs tens of
   * thousands per step at 512², where a call per output is most of the cost).
   */
  fill(out: Uint32Array, offset: number, count: number): void {
    let at = offset;
    const end = offset + count;
    while (at < end) {
      if (this.#pos === N) this.#regenerate();
      const take = Math.min(N - this.#pos, end - at);
      out.set(this.#tempered.subarray(this.#pos, this.#pos + take), at);
      this.#pos += take;
      at += take;
    }
  }

  /** mt19937_gen: refills all 624 words of state at once. */
  #regenerate(): void {
    const key = this.#key;
    let i = 0;
    for (; i < N - M; i++) {
      const y = (key[i]! & UPPER_MASK) | (key[i + 1]! & LOWER_MASK);
      key[i] = key[i + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; i < N - 1; i++) {
      const y = (key[i]! & UPPER_MASK) | (key[i + 1]! & LOWER_MASK);
      key[i] = key[i + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (key[N - 1]! & UPPER_MASK) | (key[0]! & LOWER_MASK);
    key[N - 1] = key[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    // mt19937_next's tempering, for the whole block at once.
    const tempered = this.#tempered;
    for (let j = 0; j < N; j++) {
      let t = key[j]!;
      t ^= t >>> 11;
      t ^= (t << 7) & 0x9d2c5680;
      t ^= (t << 15) & 0xefc60000;
      t ^= t >>> 18;
      tempered[j] = t >>> 0;
    }
    this.#pos = 0;
  }
}
