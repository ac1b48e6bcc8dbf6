// The generator's two block steps (WebAssembly SIMD and the JavaScript reference) against each other, and
// its bulk reader (unread/readTo, which RandomState.randn reads from in place) against its word-at-a-time
// reader, across block boundaries and with groups that straddle two blocks. The stream itself is pinned
// against numpy through random_sample and randn in numpy-random-state.test.ts (which run the SIMD step).
import { describe, expect, it } from 'vitest';
import { Mt19937 } from '../../../../gpu-function/pipeline/random/mt19937';

/** `count` outputs read in groups of `group` straight from `words`, as a bulk reader does. */
function readInGroups(mt: Mt19937, count: number, group: number): number[] {
  const read: number[] = [];
  while (read.length < count) {
    const first = mt.unread(group);
    const take = Math.min(group, count - read.length);
    for (let k = first; k < first + take; k++) read.push(mt.words[k]!);
    mt.readTo(first + take);
  }
  return read;
}

function readOneByOne(mt: Mt19937, count: number): number[] {
  return Array.from({ length: count }, () => mt.nextUint32());
}

describe('Mt19937', () => {
  it("gives init_genrand(5489)'s first outputs (Matsumoto & Nishimura's reference) with either step", () => {
    // mt19937ar.c's default seed; its first outputs are the well-known 3499211612, 581869302, 3890346734.
    for (const simd of [true, false]) {
      expect(readOneByOne(new Mt19937(5489, { simd }), 3)).toEqual([3499211612, 581869302, 3890346734]);
    }
  });

  it('runs the SIMD step here (Node has WebAssembly SIMD), and the JavaScript one when told', () => {
    expect(new Mt19937(1).simd).toBe(true);
    expect(new Mt19937(1, { simd: false }).simd).toBe(false);
  });

  it.each([0, 1, 5489, 2 ** 31, 2 ** 32 - 1])('gives the same 20 blocks from both steps for seed %i', (seed) => {
    const count = 20 * 624;
    expect(readOneByOne(new Mt19937(seed), count)).toEqual(readOneByOne(new Mt19937(seed, { simd: false }), count));
  });

  it.each([1, 2, 3, 4])('reads the same stream in groups of %i, across five blocks', (group) => {
    const count = 5 * 624 + 7;
    expect(readInGroups(new Mt19937(42), count, group)).toEqual(readOneByOne(new Mt19937(42), count));
    expect(readInGroups(new Mt19937(42, { simd: false }), count, group)).toEqual(readOneByOne(new Mt19937(42), count));
  });

  it.each([1, 2, 3])("carries a block's last %i words in front of the next when a group straddles them", (left) => {
    const bulk = new Mt19937(7);
    const single = new Mt19937(7);
    const before = 624 - left;
    expect(readInGroups(bulk, before, 1)).toEqual(readOneByOne(single, before));
    // A group of four now needs `left` words of this block and 4 − left of the next.
    const first = bulk.unread(4);
    const group = Array.from(bulk.words.subarray(first, first + 4));
    bulk.readTo(first + 4);
    expect(group).toEqual(readOneByOne(single, 4));
    expect(readOneByOne(bulk, 1000)).toEqual(readOneByOne(single, 1000));
  });

  it('rejects seeds numpy rejects', () => {
    expect(() => new Mt19937(-1)).toThrow(RangeError);
    expect(() => new Mt19937(2 ** 32)).toThrow(RangeError);
  });
});
