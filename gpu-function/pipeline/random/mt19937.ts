// The Mersenne Twister MT19937 exactly as numpy's legacy RandomState drives it: scalar seeding
// with init_genrand and tempered 32-bit outputs. A port of numpy/random/src/mt19937/mt19937.c
// (mt19937_seed, mt19937_gen, mt19937_next), itself Matsumoto & Nishimura's 1998 reference code.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
/**
 * Room in front of each block of outputs for up to CARRY unread words of the block before, so that a bulk
 * reader that takes words in groups (legacy_gauss takes four) always finds a group in one run of memory.
 */
const CARRY = 4;
const END = CARRY + N;

/** One MT19937 stream; `nextUint32()` gives the same sequence as numpy's `mt19937_next32`. */
export class Mt19937 {
  readonly #key = new Int32Array(N);
  /**
   * The current block's outputs, tempered when the block is made, at [CARRY, END); bulk readers read them
   * in place (see `unread`). Words before CARRY are the previous block's last, carried over.
   */
  readonly words = new Uint32Array(END);
  /** Index in `words` of the next output. */
  #pos = END;

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
  }

  /** The next tempered 32-bit output (an unsigned integer). */
  nextUint32(): number {
    if (this.#pos === END) this.#regenerate();
    return this.words[this.#pos++]!;
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
    this.words.copyWithin(CARRY - left, this.#pos, END);
    this.#regenerate();
    this.#pos = CARRY - left;
    return this.#pos;
  }

  /** Marks the outputs before `index` in `words` as read (index: from `unread`, up to `words.length`). */
  readTo(index: number): void {
    this.#pos = index;
  }

  /**
   * mt19937_gen, refilling all 624 words of state at once, and mt19937_next's tempering of each word, in
   * the same pass. The reference's `(y & 1) ? MATRIX_A : 0` is written as a mask, `-(y & 1) & MATRIX_A`
   * (all ones or all zeros, then AND): the same word, without a branch that random bits make the CPU
   * mispredict half the time (the branching form took five times as long).
   */
  #regenerate(): void {
    const key = this.#key;
    const words = this.words;
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
    this.#pos = CARRY;
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
