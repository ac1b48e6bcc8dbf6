// The RandomState port against numpy: the pinned values, the fixture's 1×4×8×8 latents,
// and long draws pinned by numpy-reference.json (made by make-numpy-reference.py with numpy 2.4
// from /work/team/pyref; see that script for how each value was produced).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RandomState } from '../../../../gpu-function/pipeline/random/numpy-random-state';

interface Sample {
  index: number;
  randn_float32: number;
  randn_float64: number;
  random_sample: number;
}
interface NumpyReference {
  long_draws: {
    seed: number;
    count: number;
    randn_float32_sha256: string;
    random_sample_float64_sha256: string;
    samples: Sample[];
  }[];
  interleaved: { seed: number; calls: { size: number; float32_sha256: string; first: number; last: number }[] }[];
  mixed: { seed: number; steps: { kind: 'randn' | 'random_sample'; size: number; float64: number[] }[] };
}

const reference = JSON.parse(
  readFileSync(new URL('./numpy-reference.json', import.meta.url), 'utf8'),
) as NumpyReference;
const latents = JSON.parse(
  readFileSync(new URL('../../../fixtures/tiny-sd-refs/latents-seed0-1x4x8x8.json', import.meta.url), 'utf8'),
) as { seed: number; shape: number[]; values: number[]; values_float64?: number[] };

/** sha256 of a typed array's bytes; typed arrays are little-endian on every platform Node runs on. */
function sha256(values: Float32Array | Float64Array): string {
  return createHash('sha256')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex');
}

/**
 * numpy's float64 gaussians go through the C library's log(); V8's Math.log is a different
 * implementation that can differ in the last bit (about 3% of draws). Allow two ulps in float64;
 * after the float32 cast that diffusers applies, the values are asserted bit-exact.
 */
function expectWithinUlps(actual: number, expected: number, ulps: number): void {
  const ulp = Math.abs(expected) * Number.EPSILON;
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(ulps * ulp);
}

describe('RandomState(seed).randn', () => {
  it("gives numpy's well-known first values for seed 0", () => {
    // `np.random.RandomState(0).randn(4)` prints array([1.76405235, 0.40015721, 0.97873798, 2.2408932]),
    // float64 rounded to 8 decimals; the float32 cast is then within float32 precision of them.
    const printed = [1.76405235, 0.40015721, 0.97873798, 2.2408932];
    const float64 = new RandomState(0).randnFloat64(4);
    printed.forEach((expected, i) => expect(Math.abs(float64[i]! - expected)).toBeLessThanOrEqual(5e-9));
    const float32 = new RandomState(0).randn(4);
    printed.forEach((expected, i) => expect(Math.abs(float32[i]! - expected)).toBeLessThanOrEqual(1e-7));
  });

  it('equals the reference latents RandomState(0).randn(1, 4, 8, 8).astype(float32) bit for bit', () => {
    const count = latents.shape.reduce((a, b) => a * b, 1);
    expect(count).toBe(256);
    const values = new RandomState(latents.seed).randn(count);
    expect(Array.from(values)).toEqual(latents.values);
    const float64 = new RandomState(latents.seed).randnFloat64(count);
    latents.values_float64?.forEach((expected, i) => expectWithinUlps(float64[i]!, expected, 2));
  });

  for (const draw of reference.long_draws) {
    it(`matches 100,000 float32 draws of numpy for seed ${draw.seed}`, () => {
      const values = new RandomState(draw.seed).randn(draw.count);
      for (const sample of draw.samples) expect(values[sample.index]).toBe(sample.randn_float32);
      expect(sha256(values)).toBe(draw.randn_float32_sha256);
    });
  }

  it("keeps float64 draws within two ulps of numpy's", () => {
    for (const draw of reference.long_draws) {
      const values = new RandomState(draw.seed).randnFloat64(draw.count);
      for (const sample of draw.samples) expectWithinUlps(values[sample.index]!, sample.randn_float64, 2);
    }
  });

  it('carries the cached second gaussian across calls of odd sizes', () => {
    for (const { seed, calls } of reference.interleaved) {
      const rs = new RandomState(seed);
      for (const call of calls) {
        const values = rs.randn(call.size);
        expect(values[0]).toBe(call.first);
        expect(values[call.size - 1]).toBe(call.last);
        expect(sha256(values)).toBe(call.float32_sha256);
      }
    }
  });

  it('gives randn(a) then randn(b) the same values as randn(a + b)', () => {
    const split = new RandomState(11);
    const joined = new RandomState(11).randn(1 + 2 + 5);
    expect([...split.randn(1), ...split.randn(2), ...split.randn(5)]).toEqual(Array.from(joined));
  });

  it('keeps two generators drawing in turn (pictures of a batch) each on its own stream', () => {
    const [a, b] = [new RandomState(0), new RandomState(1)];
    const [soloA, soloB] = [new RandomState(0).randn(3 * 5000), new RandomState(1).randn(3 * 5000)];
    const turns: Float32Array[][] = [[], []];
    for (let turn = 0; turn < 3; turn++) {
      turns[0]!.push(a.randn(5000));
      turns[1]!.push(b.randn(5000));
    }
    expect(turns[0]!.flatMap((values) => Array.from(values))).toEqual(Array.from(soloA));
    expect(turns[1]!.flatMap((values) => Array.from(values))).toEqual(Array.from(soloB));
  });

  it('draws in bulk exactly as value by value when uniforms before leave the stream mid-group', () => {
    // random_sample takes two words per value, so after an odd count randn's four-word attempts straddle
    // the generator's blocks; randnFloat64 draws one value at a time through the same legacy_gauss.
    for (const uniforms of [1, 2, 3]) {
      const bulk = new RandomState(2024);
      const single = new RandomState(2024);
      expect(Array.from(bulk.randomSample(uniforms))).toEqual(Array.from(single.randomSample(uniforms)));
      for (const size of [1, 999, 4096, 3]) {
        expect(Array.from(bulk.randn(size))).toEqual(Array.from(single.randnFloat64(size), Math.fround));
      }
      expect(Array.from(bulk.randomSample(5))).toEqual(Array.from(single.randomSample(5)));
    }
  });
});

describe('RandomState(seed).randomSample', () => {
  for (const draw of reference.long_draws) {
    it(`matches 100,000 float64 uniforms of numpy exactly for seed ${draw.seed}`, () => {
      const values = new RandomState(draw.seed).randomSample(draw.count);
      for (const sample of draw.samples) expect(values[sample.index]).toBe(sample.random_sample);
      expect(sha256(values)).toBe(draw.random_sample_float64_sha256);
    });
  }

  it('shares one stream with randn, the cached gaussian surviving uniform draws in between', () => {
    const rs = new RandomState(reference.mixed.seed);
    for (const step of reference.mixed.steps) {
      if (step.kind === 'random_sample') {
        expect(Array.from(rs.randomSample(step.size))).toEqual(step.float64);
      } else {
        const values = rs.randnFloat64(step.size);
        step.float64.forEach((expected, i) => expectWithinUlps(values[i]!, expected, 2));
      }
    }
  });
});

describe('RandomState arguments', () => {
  it.each([-1, 4294967296, 1.5, Number.NaN])('rejects seed %s as numpy does', (seed) => {
    expect(() => new RandomState(seed)).toThrow(RangeError);
  });

  it('rejects a negative or fractional count', () => {
    expect(() => new RandomState(0).randn(-1)).toThrow(RangeError);
    expect(() => new RandomState(0).randn(2.5)).toThrow(RangeError);
  });

  it('returns an empty array for count 0 without consuming the stream', () => {
    const rs = new RandomState(0);
    expect(rs.randn(0)).toHaveLength(0);
    expect(rs.randn(1)[0]).toBe(Math.fround(1.764052345967664));
  });
});
