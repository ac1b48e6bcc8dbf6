// The WebAssembly SIMD kernels (gpu-function/pipeline/kernels/) give the bits of their JavaScript
// references: element by element on data that reaches every path (float16 zeros, subnormals,
// infinities, NaN; float32 subnormals; lengths that are not whole groups of four; a result written over
// its input), and through the schedulers and the pipeline with the kernels on and off. The committed
// module is the .wat assembled now.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  float16DecodeTable,
  float32BitsToFloat16Bits,
  float32ToFloat16Array,
  KERNEL_MIN_LENGTH,
} from '../../../gpu-function/pipeline/float16';
import { float16ByteTable } from '../../../gpu-function/pipeline/image/to-rgb8';
import { Float32Kernels, setFloat32KernelsEnabled } from '../../../gpu-function/pipeline/kernels/simd-kernels';
import { RandomState } from '../../../gpu-function/pipeline/random/numpy-random-state';
import { createScheduler } from '../../../gpu-function/pipeline/schedulers';
import { assembleKernels, KERNELS_GENERATED, kernelsModule } from '../../../scripts/build-kernels';

const f32 = Math.fround;

/** A deterministic stream of 32-bit words (xorshift32). */
function words(count: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 0;
  }
  return out;
}

/** Latent-like float32 values, every `subnormalEvery`-th one a float32 subnormal. */
function latents(count: number, seed: number, subnormalEvery = 0): Float32Array {
  const w = words(count, seed);
  return Float32Array.from(w, (word, i) =>
    subnormalEvery > 0 && i % subnormalEvery === 0 ? (word % 1000) * 1e-42 : (word / 2 ** 31 - 1) * 3,
  );
}

function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

const kernels = Float32Kernels.load();

afterEach(() => setFloat32KernelsEnabled(true));

describe('the SIMD kernels', () => {
  it('load on this runtime, so the pipeline tests run them', () => {
    expect(kernels).toBeInstanceOf(Float32Kernels);
  });

  it('are the committed module, assembled from float32-kernels.wat as it is now', async () => {
    expect(await readFile(KERNELS_GENERATED, 'utf8')).toBe(kernelsModule(await assembleKernels()));
  });

  it('plms4: the bits of the two PLMS loops for any length, subnormals included, in place too', () => {
    const w = f32(1 / 24);
    const k = { w, sampleCoeff: f32(1.0013), diff: f32(-0.00731), denom: f32(0.05127) };
    for (const length of [1, 3, 4, 5, 255, 1027, 16_384]) {
      const e = [1, 2, 3, 4].map((seed) => latents(length, seed * 97 + length, 7)) as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const sample = latents(length, 5 + length, 11);
      const expected = new Float32Array(length);
      for (let i = 0; i < length; i++) {
        const eps = f32(
          w * f32(f32(f32(f32(55 * e[0][i]!) - f32(59 * e[1][i]!)) + f32(37 * e[2][i]!)) - f32(9 * e[3][i]!)),
        );
        expected[i] = f32(f32(k.sampleCoeff * sample[i]!) - f32(f32(k.diff * eps) / k.denom));
      }
      const out = new Float32Array(length);
      kernels!.plms4(e, sample, out, k);
      expect(bitsOf(out)).toEqual(bitsOf(expected));
      kernels!.plms4(e, sample, sample, k);
      expect(bitsOf(sample)).toEqual(bitsOf(expected));
    }
  });

  it('plmsEarly: the bits of the first four PLMS steps (orders 0 to 3) for any length, subnormals included, in place too', () => {
    const k = { sampleCoeff: f32(1.0021), diff: f32(-0.00412), denom: f32(0.06311) };
    const epsilon: ((a: number, b: number, c: number) => number)[] = [
      (a) => a,
      (a, b) => f32(f32(a + b) / 2),
      (a, b) => f32(f32(f32(3 * a) - b) / 2),
      (a, b, c) => f32(f32(f32(f32(23 * a) - f32(16 * b)) + f32(5 * c)) / 12),
    ];
    for (const length of [1, 3, 4, 5, 255, 1027, 16_384]) {
      for (const order of [0, 1, 2, 3] as const) {
        const e = [1, 2, 3].map((seed) => latents(length, seed * 89 + length + order, 7)).slice(0, [1, 2, 2, 3][order]);
        const sample = latents(length, 3 + length, 11);
        const expected = Float32Array.from(sample, (x, i) => {
          const eps = epsilon[order]!(e[0]![i]!, e[1]?.[i] ?? Number.NaN, e[2]?.[i] ?? Number.NaN);
          return f32(f32(k.sampleCoeff * x) - f32(f32(k.diff * eps) / k.denom));
        });
        const out = new Float32Array(length);
        kernels!.plmsEarly(order, e, sample, out, k);
        if (!bitsOf(out).every((bits, i) => bits === bitsOf(expected)[i]))
          expect.fail(`order ${order}, length ${length}`);
        kernels!.plmsEarly(order, e, sample, sample, k);
        expect(bitsOf(sample)).toEqual(bitsOf(expected));
      }
    }
  });

  it('guidanceFloat16: every float16 pattern, the groups it cannot do listed and nothing else', () => {
    const table = float16DecodeTable();
    // Row u walks all 65 536 patterns; row c is the same shifted, so pairs mix normal and special lanes.
    const length = 65_536 + 3;
    const halves = new Uint16Array(2 * length + 5);
    for (let i = 0; i < length; i++) {
      halves[5 + i] = i & 0xffff;
      halves[5 + length + i] = (i * 7919 + 13) & 0xffff;
    }
    const scale = f32(7.5);
    const out = new Float32Array(length);
    const listed = kernels!.guidanceFloat16(halves, 5, 5 + length, scale, out);
    const isNormal = (half: number) => (half & 0x7c00) !== 0 && (half & 0x7c00) !== 0x7c00;
    const special = new Set<number>();
    for (let i = 0; i < length; i++) {
      if (!isNormal(halves[5 + i]!) || !isNormal(halves[5 + length + i]!)) special.add(i - (i % 4));
    }
    expect(listed).toEqual([...special].sort((a, b) => a - b));
    const unlisted = new Set(listed);
    for (let i = 0; i < length; i++) {
      if (unlisted.has(i - (i % 4))) continue;
      const u = table[halves[5 + i]!]!;
      const expected = f32(u + f32(scale * f32(table[halves[5 + length + i]!]! - u)));
      if (!Object.is(out[i], expected)) expect.fail(`element ${i}: ${out[i]} ≠ ${expected}`);
    }
  });

  it('float32ToFloat16: the element-wise bits outside the listed groups, which hold every lane off the fast path', () => {
    const length = 100_003;
    const values = new Float32Array(words(length, 42).buffer);
    values.set([0, -0, 2 ** -14, 2 ** 15, 65_504, 1e-8, Number.NaN, Number.POSITIVE_INFINITY], 0);
    const out = new Uint16Array(length);
    const listed = new Set(kernels!.float32ToFloat16(values, out));
    const bits = bitsOf(values);
    for (let i = 0; i < length; i++) {
      const magnitude = bits[i]! & 0x7fffffff;
      const fast = magnitude >= 0x38800000 && magnitude < 0x47000000;
      if (!fast) expect(listed.has(i - (i % 4))).toBe(true);
      if (!listed.has(i - (i % 4)) && out[i] !== float32BitsToFloat16Bits(bits[i]!)) expect.fail(`element ${i}`);
    }
    // Through float16.ts, listed groups included: the element-wise function's bits everywhere.
    expect(float32ToFloat16Array(values)).toEqual(Uint16Array.from(bits, float32BitsToFloat16Bits));
    expect(length).toBeGreaterThan(KERNEL_MIN_LENGTH);
  });

  it('float16ImageToRgb8: the table byte for every float16 pattern in every channel, and NaN found', () => {
    // 3 planes of 65 536 pixels: each plane runs through all 65 536 patterns, shifted per plane so every
    // pixel's three channels differ (a swapped plane or a misplaced shuffle lane shows).
    const plane = 65_536;
    const halves = new Uint16Array(3 * plane);
    for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) halves[c * plane + i] = (i + c * 21_845) & 0xffff;
    const out = new Uint8Array(3 * plane);
    const table = float16ByteTable();
    const hasNaN = kernels!.float16ImageToRgb8(halves, out);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        if (out[3 * p + c] !== table[halves[c * plane + p]!]) expect.fail(`pixel ${p} channel ${c}: ${out[3 * p + c]}`);
      }
    }
    expect(hasNaN).toBe(true);
    // NaN alone decides: without any, false; one NaN anywhere (first, last, either half of a word), true.
    const finite = Uint16Array.from(halves, (h) => ((h & 0x7c00) === 0x7c00 ? h & 0x83ff : h));
    expect(kernels!.float16ImageToRgb8(finite, out)).toBe(false);
    for (const [at, nan] of [
      [0, 0x7c01],
      [finite.length - 1, 0xfe00],
      [4097, 0x7fff],
      [4098, 0xffff],
    ] as const) {
      const one = finite.slice();
      one[at] = nan;
      expect(kernels!.float16ImageToRgb8(one, out)).toBe(true);
    }
    expect(() => kernels!.float16ImageToRgb8(new Uint16Array(3 * 8), new Uint8Array(3 * 8))).toThrow(/multiple of 16/);
  });
});

describe('the kernels on and off', () => {
  it('PNDM steps the same bits either way, epsilon and v_prediction', () => {
    for (const predictionType of ['epsilon', 'v_prediction']) {
      const config = { _class_name: 'PNDMScheduler', skip_prk_steps: true, prediction_type: predictionType };
      const run = (on: boolean): Float32Array => {
        setFloat32KernelsEnabled(on);
        const scheduler = createScheduler('pndm', config);
        scheduler.setTimesteps(25);
        let sample = latents(4 * 16 * 16, 3, 13);
        for (const [i, t] of scheduler.timesteps.entries()) {
          const output = latents(sample.length, 100 + i, 17).map((x, j) => f32(x * 0.3 + sample[j]! * 0.1));
          sample = scheduler.step(output, t, sample, new RandomState(0), sample);
        }
        return sample;
      };
      expect(bitsOf(run(true))).toEqual(bitsOf(run(false)));
    }
  });
});
