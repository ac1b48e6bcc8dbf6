// mt19937.wat's instance for this thread: the WebAssembly SIMD block step (twist and tempering), and
// randn's candidate points and the arithmetic around their logarithms, for every Mt19937 of the thread in
// turn. One instance, not one per generator:
// making an instance costs about 0.2 ms (its memory is reserved with guard pages), more than a 512² latent's
// draws, and a RandomState is made per picture. Its memory holds one generator at a time, the owner;
// Mt19937 moves its state in (and the previous owner's out, two 2.5 KB copies each way) when it needs the
// step and is not the owner, which within one picture's draws is never.
import { MT19937_WASM_BASE64 } from './mt19937.generated';

const N = 624;
/** Byte offsets in mt19937.wat's memory: the state at 0, then the outputs, points and radii. */
const WORDS_AT = 4096;
const POINTS_AT = 8192;
const RADII_AT = 12288;
const LOGS_AT = 14336;
const NORMALS_AT = 16384;

/** The memory's regions as mt19937.ts lays them out, and the two steps. */
export interface SimdWorkspace {
  readonly key: Int32Array;
  /** `carry` words, then the block's N outputs (what Mt19937 calls `words`). */
  readonly words: Uint32Array;
  readonly points: Float64Array;
  readonly radii: Float64Array;
  /** `normals`' input: ln r² of each point, written by the caller. */
  readonly logs: Float64Array;
  /** `normals`' output: f·x2, f·x1 of each point, as float32. */
  readonly normals: Float32Array;
  /** The generator whose state is in the memory now. */
  owner: unknown;
  /** mt19937_gen and tempering: the next block into words[carry…]. */
  generate(): void;
  /** polarPoints (mt19937.ts) of words[first, end) into points and radii; returns how many were kept. */
  polarPoints(first: number, end: number): number;
  /** f = √(−2·logs[p] / radii[p]), then f·x2 and f·x1 as float32 into `normals`, for the first `count` points. */
  makeNormals(count: number): void;
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
  polarPoints(at: number, end: number, points: number, radii: number): number;
  normals(count: number, points: number, radii: number, logs: number, out: number): void;
}

let workspace: SimdWorkspace | null | undefined;

/** This thread's workspace, made on first use; undefined where the runtime has no WebAssembly SIMD. */
export function simdWorkspace(carry: number, maxPoints: number): SimdWorkspace | undefined {
  if (workspace === undefined) {
    try {
      workspace = makeWorkspace(carry, maxPoints);
    } catch {
      workspace = null;
    }
  }
  return workspace ?? undefined;
}

function makeWorkspace(carry: number, maxPoints: number): SimdWorkspace {
  const instance = new wasm.Instance(new wasm.Module(Buffer.from(MT19937_WASM_BASE64, 'base64')));
  const exports = instance.exports as Mt19937Exports;
  const { buffer } = exports.memory;
  const out = WORDS_AT + 4 * carry;
  return {
    key: new Int32Array(buffer, 0, N),
    words: new Uint32Array(buffer, WORDS_AT, carry + N),
    points: new Float64Array(buffer, POINTS_AT, 2 * maxPoints),
    radii: new Float64Array(buffer, RADII_AT, maxPoints),
    logs: new Float64Array(buffer, LOGS_AT, maxPoints),
    normals: new Float32Array(buffer, NORMALS_AT, 2 * maxPoints),
    owner: undefined,
    generate: () => exports.generate(out),
    polarPoints: (first, end) => exports.polarPoints(WORDS_AT + 4 * first, WORDS_AT + 4 * end, POINTS_AT, RADII_AT),
    makeNormals: (count) => exports.normals(count, POINTS_AT, RADII_AT, LOGS_AT, NORMALS_AT),
  };
}
