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

  it('makes the same polar points and normals from both steps, bit for bit, across groups that straddle blocks', () => {
    const simd = new Mt19937(99);
    const js = new Mt19937(99, { simd: false });
    let kept = 0;
    let tried = 0;
    // Two words read one by one first, so that every fourth run of points straddles two blocks.
    expect([simd.nextUint32(), simd.nextUint32()]).toEqual([js.nextUint32(), js.nextUint32()]);
    for (let run = 0; run < 40; run++) {
      const first = simd.unread(4);
      expect(js.unread(4)).toBe(first);
      const end = first + 4 * Math.min(1 + ((run * 37) % 157), (simd.words.length - first) >>> 2);
      const fromSimd = simd.polarPoints(first, end);
      expect(js.polarPoints(first, end)).toBe(fromSimd);
      expect(Array.from(simd.points.subarray(0, 2 * fromSimd))).toEqual(
        Array.from(js.points.subarray(0, 2 * fromSimd)),
      );
      expect(Array.from(simd.radii.subarray(0, fromSimd))).toEqual(Array.from(js.radii.subarray(0, fromSimd)));
      // Their normals (odd and even counts, written from an offset), SIMD around Math.log vs JavaScript.
      const count = Math.min(fromSimd, 1 + (run % 7) * 23);
      const [outSimd, outJs] = [new Float32Array(2 * count + 4), new Float32Array(2 * count + 4)];
      simd.normals(count, outSimd, 3);
      js.normals(count, outJs, 3);
      expect(Array.from(outSimd)).toEqual(Array.from(outJs));
      expect(outSimd[3]).not.toBe(0);
      simd.readTo(end);
      js.readTo(end);
      kept += fromSimd;
      tried += (end - first) / 4;
    }
    // About π/4 of the points fall inside the circle: both kinds of point were met.
    expect(kept / tried).toBeGreaterThan(0.7);
    expect(kept / tried).toBeLessThan(0.87);
  });

  it('keeps each stream its own when generators take turns in the one SIMD workspace', () => {
    // The thread's WebAssembly memory holds one generator at a time; turns move states in and out,
    // mid-block, with carried words and with points just made.
    const seeds = [3, 4, 5];
    const simd = seeds.map((seed) => new Mt19937(seed));
    const js = seeds.map((seed) => new Mt19937(seed, { simd: false }));
    for (let turn = 0; turn < 60; turn++) {
      const g = turn % 3;
      const count = 1 + ((turn * 211) % 700);
      if (turn % 2 === 0) {
        expect(readInGroups(simd[g]!, count, 4)).toEqual(readOneByOne(js[g]!, count));
      } else {
        const first = simd[g]!.unread(4);
        expect(js[g]!.unread(4)).toBe(first);
        const end = first + 4 * Math.min(count >>> 2, (simd[g]!.words.length - first) >>> 2);
        const kept = simd[g]!.polarPoints(first, end);
        expect(js[g]!.polarPoints(first, end)).toBe(kept);
        expect(Array.from(simd[g]!.radii.subarray(0, kept))).toEqual(Array.from(js[g]!.radii.subarray(0, kept)));
        simd[g]!.readTo(end);
        js[g]!.readTo(end);
      }
    }
  });

  it('rejects seeds numpy rejects', () => {
    expect(() => new Mt19937(-1)).toThrow(RangeError);
    expect(() => new Mt19937(2 ** 32)).toThrow(RangeError);
  });
});
