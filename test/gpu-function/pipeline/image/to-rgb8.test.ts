// Post-processing of the VAE output against diffusers' numpy expressions. rgb8-reference.json was
// made by make-rgb8-reference.py (numpy 2.4, /work/team/pyref), which runs diffusers' own lines on
// a 2×3×10×11 float32 array full of half-level and clipping edge cases.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { float16ToFloat32Array } from '../../../../gpu-function/pipeline/float16';
import { setFloat32KernelsEnabled } from '../../../../gpu-function/pipeline/kernels/simd-kernels';
import {
  decodedImageToRgb8,
  decoderOutputToRgb8,
  float16ContainsNaN,
  float16ImageToRgb8,
  roundHalfToEven,
  unitToByte,
} from '../../../../gpu-function/pipeline/image/to-rgb8';

interface Rgb8Reference {
  shape: [number, number, number, number];
  half_level_inputs: number;
  input_float32: (number | 'Infinity' | '-Infinity')[];
  rgb8: number[][];
}

const reference = JSON.parse(
  readFileSync(new URL('./rgb8-reference.json', import.meta.url), 'utf8'),
) as Rgb8Reference;
const input = Float32Array.from(reference.input_float32, (v) =>
  v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v,
);

describe('decodedImageToRgb8', () => {
  it('gives the bytes diffusers gives, for every image of the batch', () => {
    const [batch, channels, height, width] = reference.shape;
    expect(channels).toBe(3);
    expect(reference.half_level_inputs).toBeGreaterThan(100);
    for (let b = 0; b < batch; b++) {
      expect(Array.from(decodedImageToRgb8(input, b, width, height))).toEqual(reference.rgb8[b]);
    }
  });

  it('transposes NCHW planes into interleaved RGB rows', () => {
    // 2×2 image: R plane 1,1,1,1 (→255), G plane -1 (→0), B plane 0 (→127.5 → 128).
    const data = Float32Array.from([1, 1, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0]);
    expect(Array.from(decodedImageToRgb8(data, 0, 2, 2))).toEqual([255, 0, 128, 255, 0, 128, 255, 0, 128, 255, 0, 128]);
    // Non-square: pixel (row 0, column 2) of a 3×1 image is the third value of each plane.
    const wide = Float32Array.from([-1, -1, 1, -1, 1, -1, 1, -1, -1]);
    expect(Array.from(decodedImageToRgb8(wide, 0, 3, 1))).toEqual([0, 0, 255, 0, 255, 0, 255, 0, 0]);
  });

  it('rejects an image index or size the tensor does not hold', () => {
    const data = new Float32Array(2 * 3 * 4 * 4);
    expect(() => decodedImageToRgb8(data, 2, 4, 4)).toThrow(/needs 144 values, the decoder output has 96/);
    expect(() => decodedImageToRgb8(data, -1, 4, 4)).toThrow(RangeError);
    expect(() => decodedImageToRgb8(data, 0, 0, 4)).toThrow(RangeError);
  });
});

describe('float16ImageToRgb8 (by table)', () => {
  it('gives the bytes of decoding to float32 first, for every float16 value, NaNs and infinities included', () => {
    // Two images of 128×128 whose 3 × 16384 values per image run through all 65 536 bit patterns (the
    // second image starts where the first ended), so the plane order and batch offset are checked too.
    const halves = new Uint16Array(2 * 3 * 128 * 128);
    for (let i = 0; i < halves.length; i++) halves[i] = (i * 3) & 0xffff;
    const decoded = float16ToFloat32Array(halves);
    for (const b of [0, 1]) {
      expect(Buffer.from(float16ImageToRgb8(halves, b, 128, 128)).equals(Buffer.from(decodedImageToRgb8(decoded, b, 128, 128)))).toBe(true);
    }
    expect(new Set(halves).size).toBe(65536);
  });

  it('rejects an image index the tensor does not hold', () => {
    expect(() => float16ImageToRgb8(new Uint16Array(3 * 4 * 4), 1, 4, 4)).toThrow(/needs 96 values, the decoder output has 48/);
  });
});

describe('decoderOutputToRgb8', () => {
  afterEach(() => setFloat32KernelsEnabled(true));

  // Two 64×32 images (a plane of 2048 pixels, a whole number of the kernel's 16) over every float16 pattern but NaN.
  const [width, height] = [64, 32];
  const finite = new Uint16Array(2 * 3 * width * height);
  for (let i = 0; i < finite.length; i++) {
    const h = (i * 5) & 0xffff;
    finite[i] = (h & 0x7c00) === 0x7c00 ? h & 0x83ff : h;
  }
  const dims = [2, 3, height, width];

  it('gives the per-image table bytes for float16, with the SIMD kernel and without', () => {
    for (const on of [true, false]) {
      setFloat32KernelsEnabled(on);
      const pictures = decoderOutputToRgb8({ type: 'float16', data: finite, dims }, 2, width, height)!;
      expect(pictures.map((p) => Buffer.from(p).toString('hex'))).toEqual(
        [0, 1].map((b) => Buffer.from(float16ImageToRgb8(finite, b, width, height)).toString('hex')),
      );
    }
  });

  it('answers undefined for a NaN anywhere in a float16 output, kernel or table, either half of a 32-bit word', () => {
    for (const on of [true, false]) {
      setFloat32KernelsEnabled(on);
      for (const at of [0, 1, 3 * width * height + 6, finite.length - 1]) {
        const data = finite.slice();
        data[at] = 0x7e00;
        expect(decoderOutputToRgb8({ type: 'float16', data, dims }, 2, width, height)).toBeUndefined();
      }
    }
    // A width·height that is no multiple of 16 takes the table, NaN check included.
    const odd = new Uint16Array(3 * 5 * 3).fill(0x3c00);
    expect(decoderOutputToRgb8({ type: 'float16', data: odd, dims: [1, 3, 3, 5] }, 1, 5, 3)).toHaveLength(1);
    odd[44] = 0xfc01;
    expect(decoderOutputToRgb8({ type: 'float16', data: odd, dims: [1, 3, 3, 5] }, 1, 5, 3)).toBeUndefined();
  });

  it('takes float32 as decodedImageToRgb8 does, and a NaN in it as undefined', () => {
    expect(decoderOutputToRgb8({ type: 'float32', data: input, dims: reference.shape }, 2, 11, 10)).toEqual(
      reference.rgb8.map((bytes) => Uint8Array.from(bytes)),
    );
    const withNaN = input.slice();
    withNaN[7] = Number.NaN;
    expect(decoderOutputToRgb8({ type: 'float32', data: withNaN, dims: reference.shape }, 2, 11, 10)).toBeUndefined();
  });

  it('float16ContainsNaN reads both halves of each word and an odd last half', () => {
    const words = new Uint16Array(9).fill(0x7c00);
    expect(float16ContainsNaN(words)).toBe(false);
    for (const at of [0, 1, 8]) {
      const one = words.slice();
      one[at] = 0x7c01;
      expect(float16ContainsNaN(one)).toBe(true);
      expect(float16ContainsNaN(one.subarray(at === 8 ? 1 : 0))).toBe(true);
    }
  });
});

describe('rounding to a byte', () => {
  it('rounds halves to even as numpy does, where Math.round would round up', () => {
    expect([0.5, 1.5, 2.5, 126.5, 127.5, 254.5].map(roundHalfToEven)).toEqual([0, 2, 2, 126, 128, 254]);
    expect([0.49999997, 0.50000006, 253.49998, 253.50002].map(roundHalfToEven)).toEqual([0, 1, 253, 254]);
  });

  it('lands on a half level only through float32 arithmetic', () => {
    // float32: -0.4941176176071167 / 2 + 0.5 = 0.25294119…, × 255 = 64.5 exactly → 64 (Math.round: 65).
    // In float64 the same input gives 64.50000376…, which rounds to 65.
    expect(unitToByte(-0.4941176176071167)).toBe(64);
    expect(unitToByte(-0.48627448081970215)).toBe(66); // 65.5 → 66
    expect(unitToByte(-0.4784313440322876)).toBe(66); // 66.5 → 66
  });

  it('clips below 0 and above 1 and maps NaN to 0', () => {
    expect([-Infinity, -5, -1.0000001, -1, 1, 1.0000001, 5, Infinity].map(unitToByte)).toEqual([
      0, 0, 0, 0, 255, 255, 255, 255,
    ]);
    expect(unitToByte(Number.NaN)).toBe(0);
    expect(unitToByte(-0)).toBe(128);
  });
});
