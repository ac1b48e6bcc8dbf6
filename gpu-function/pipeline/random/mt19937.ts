// The Mersenne Twister MT19937 exactly as numpy's legacy RandomState drives it: scalar seeding
// with init_genrand and tempered 32-bit outputs. A port of numpy/random/src/mt19937/mt19937.c
// (mt19937_seed, mt19937_gen, mt19937_next), itself Matsumoto & Nishimura's 1998 reference code.
//
// The block step runs as WebAssembly SIMD (mt19937.wat) where the runtime has it, four state words at a
// time, in the generator's own small memory; twistAndTemper below is the reference and the fallback.
import { MT19937_WASM_BASE64 } from './mt19937.generated';

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
/** Where mt19937.wat's memory holds the outputs (the state is at byte 0): 16-byte aligned past it. */
const WORDS_AT = 4096;

/** The state words and the outputs, and the step that makes the next block from one into the other. */
interface BlockStep {
  readonly key: Int32Array;
  /** CARRY words carried over, then the block's N tempered outputs. */
  readonly words: Uint32Array;
  next(): void;
}

/** One MT19937 stream; `nextUint32()` gives the same sequence as numpy's `mt19937_next32`. */
export class Mt19937 {
  readonly #step: BlockStep;
  /**
   * The current block's outputs at [CARRY, END), tempered when the block is made; bulk readers read them
   * in place (see `unread`). Words before CARRY are the previous block's last, carried over.
   */
  readonly words: Uint32Array;
  /** Index in `words` of the next output. */
  #pos = END;
  /** Whether the block step runs as WebAssembly SIMD here. */
  readonly simd: boolean;

  /**
   * numpy's `_legacy_seeding` passes an integer seed in [0, 2^32 − 1] to `mt19937_seed`, which is
   * Matsumoto & Nishimura's `init_genrand` (the seed array form, `init_by_array`, is only used for
   * array seeds, which this port does not take). `simd: false` keeps to the JavaScript step (the tests
   * compare the two).
   */
  constructor(seed: number, options: { readonly simd?: boolean } = {}) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an integer in [0, 4294967295], got ${seed}`);
    }
    const simd = (options.simd ?? true) ? wasmStep() : undefined;
    this.simd = simd !== undefined;
    this.#step = simd ?? javascriptStep();
    this.words = this.#step.words;
    const key = this.#step.key;
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

  #regenerate(): void {
    this.#step.next();
    this.#pos = CARRY;
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

/** mt19937_next's tempering of one state word (stored as int32; the Uint32Array store makes it unsigned). */
function temper(word: number): number {
  let t = word;
  t ^= t >>> 11;
  t ^= (t << 7) & 0x9d2c5680;
  t ^= (t << 15) & 0xefc60000;
  return t ^ (t >>> 18);
}

function javascriptStep(): BlockStep {
  const key = new Int32Array(N);
  const words = new Uint32Array(END);
  return { key, words, next: () => twistAndTemper(key, words) };
}

// The project's TypeScript libraries (ES2023, @types/node 20) declare no WebAssembly API; the few parts used here.
const { WebAssembly: wasm } = globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object) => { readonly exports: unknown };
  };
};
interface Mt19937Exports {
  readonly memory: { readonly buffer: ArrayBuffer };
  generate(out: number): void;
}

/** mt19937.wat compiled once per thread; null where the runtime cannot (no WebAssembly SIMD). */
let compiled: object | null | undefined;

/** A block step in its own instance of mt19937.wat (one 64 KiB memory per generator), or undefined. */
function wasmStep(): BlockStep | undefined {
  if (compiled === undefined) {
    try {
      compiled = new wasm.Module(Buffer.from(MT19937_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  if (compiled === null) return undefined;
  const exports = new wasm.Instance(compiled).exports as Mt19937Exports;
  const { buffer } = exports.memory;
  const out = WORDS_AT + 4 * CARRY;
  return {
    key: new Int32Array(buffer, 0, N),
    words: new Uint32Array(buffer, WORDS_AT, END),
    next: () => exports.generate(out),
  };
}
