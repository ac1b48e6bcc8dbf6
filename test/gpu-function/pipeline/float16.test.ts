// float16 conversions pinned against numpy 2.4.6 (`np.array([bits], np.uint32).view(np.float32)
// .astype(np.float16).view(np.uint16)` and the reverse), the arithmetic diffusers' float16 pipelines use.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  float16BitsToFloat32Bits,
  float16ToFloat32Array,
  float16ToFloat32Into,
  float32BitsToFloat16Bits,
  float32ToFloat16Array,
  float32ToFloat16Into,
  fromFloat16Bits,
  toFloat16Bits,
} from '../../../gpu-function/pipeline/float16';

// [what, float32 bits, float16 bits numpy gives]
const encodeCases: readonly [string, number, number][] = [
  ['one', 0x3f800000, 0x3c00],
  ['minus two', 0xc0000000, 0xc000],
  ['zero', 0x00000000, 0x0000],
  ['negative zero', 0x80000000, 0x8000],
  ['infinity', 0x7f800000, 0x7c00],
  ['negative infinity', 0xff800000, 0xfc00],
  ['quiet NaN', 0x7fc00000, 0x7e00],
  ['negative quiet NaN', 0xffc00000, 0xfe00],
  ['NaN with a payload only in the low bits stays NaN', 0x7f800001, 0x7c01],
  ['NaN payload at bit 13', 0x7f802000, 0x7c01],
  ['NaN payload 0x200000', 0x7fa00000, 0x7d00],
  ['largest float16, 65504', 0x477fe000, 0x7bff],
  ['just under 65520 rounds down', 0x477fefff, 0x7bff],
  ['65520 rounds to infinity', 0x477ff000, 0x7c00],
  ['largest float32 overflows', 0x7f7fffff, 0x7c00],
  ['smallest normal 2^-14', 0x38800000, 0x0400],
  ['just under 2^-14 rounds up to the smallest normal', 0x387fe000, 0x0400],
  ['smallest subnormal 2^-24', 0x33800000, 0x0001],
  ['2^-25 is a tie and rounds to even zero', 0x33000000, 0x0000],
  ['just above 2^-25 rounds up', 0x33000001, 0x0001],
  ['1.5 × 2^-24 is a tie, rounds to even 2', 0x33c00000, 0x0002],
  ['2.5 × 2^-24 is a tie, rounds to even 2', 0x34200000, 0x0002],
  ['float32 subnormal underflows to zero', 0x00000001, 0x0000],
  ['1 + 2^-11 is a tie, rounds to even 1', 0x3f801000, 0x3c00],
  ['1 + 3 × 2^-11 is a tie, rounds to even', 0x3f803000, 0x3c02],
  ['just above a tie rounds up', 0x3f801001, 0x3c01],
  ['0.1', 0x3dcccccd, 0x2e66],
  ['pi', 0x40490fdb, 0x4248],
  ['-0.18215', 0xbe3a8588, 0xb1d4],
];

// [float16 bits, float32 bits numpy gives]
const decodeCases: readonly [number, number][] = [
  [0x0001, 0x33800000],
  [0x03ff, 0x387fc000],
  [0x0400, 0x38800000],
  [0x3c00, 0x3f800000],
  [0x7bff, 0x477fe000],
  [0x7c00, 0x7f800000],
  [0xfc00, 0xff800000],
  [0x7c01, 0x7f802000],
  [0x7e00, 0x7fc00000],
  [0xfe01, 0xffc02000],
  [0x8001, 0xb3800000],
  [0x3555, 0x3eaaa000],
  [0xc000, 0xc0000000],
];

function sha256Hex(view: ArrayBufferView): string {
  return createHash('sha256').update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).digest('hex');
}

describe('float32 → float16', () => {
  it.each(encodeCases)('%s', (_what, float32Bits, float16Bits) => {
    expect(float32BitsToFloat16Bits(float32Bits)).toBe(float16Bits);
  });

  it('matches numpy on a million float32 bit patterns spread over the whole range', () => {
    // Python: bits = np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32)
    //         sha256(bits.view(np.float32).astype(np.float16).view(np.uint16).astype('<u2').tobytes())
    const count = Math.floor((2 ** 32 - 1) / 4099) + 1;
    const bits = new Uint32Array(count);
    for (let i = 0; i < count; i++) bits[i] = i * 4099;
    const halves = float32ToFloat16Array(new Float32Array(bits.buffer));
    expect(count).toBe(1047809);
    expect(sha256Hex(halves)).toBe('76198aff22a1b4c71bfc3e0e9968233f8bbda1495c3ad1c75b21a00de631305f');
  });

  it('rounds JS numbers through float32 first', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-0)).toBe(0x8000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(toFloat16Bits(Number.NaN) & 0x3ff).not.toBe(0);
  });

  it('converts a Float32Array view with an offset', () => {
    const backing = new Float32Array([9, 1, -2, 0.5]);
    expect(Array.from(float32ToFloat16Array(backing.subarray(1)))).toEqual([0x3c00, 0xc000, 0x3800]);
  });

  it("gives the element-wise function's bits on 17 million patterns, its fast path's edges included", () => {
    // Every 251st pattern (a prime stride, so the 13 rounded-off bits take every value), plus the
    // patterns around the fast path's ends (2^-14 and 2^15) and around each rounding tie near them.
    const edges = [0x38800000, 0x47000000, 0x387ff000, 0x46fff000].flatMap((edge) =>
      Array.from({ length: 0x4000 }, (_, k) => edge - 0x2000 + k).flatMap((bits) => [bits, bits | 0x80000000]),
    );
    const count = Math.floor(2 ** 32 / 251);
    const bits = new Uint32Array(count + edges.length);
    for (let i = 0; i < count; i++) bits[i] = i * 251;
    bits.set(edges, count);
    const out = float32ToFloat16Into(new Float32Array(bits.buffer), new Uint16Array(bits.length));
    for (let i = 0; i < bits.length; i++) {
      const expected = float32BitsToFloat16Bits(bits[i]!);
      if (out[i] !== expected) throw new Error(`0x${bits[i]!.toString(16)} gave 0x${out[i]!.toString(16)}, not 0x${expected.toString(16)}`);
    }
  });

  it('writes into a view with an offset and refuses an output of another length', () => {
    const backing = new Uint16Array(5);
    float32ToFloat16Into(Float32Array.of(1, -2, 0.5), backing.subarray(2));
    expect(Array.from(backing)).toEqual([0, 0, 0x3c00, 0xc000, 0x3800]);
    expect(() => float32ToFloat16Into(Float32Array.of(1, 2), new Uint16Array(3))).toThrow(RangeError);
  });
});

describe('float16 → float32', () => {
  it.each(decodeCases)('float16 %i → float32 %i', (half, float32Bits) => {
    expect(float16BitsToFloat32Bits(half)).toBe(float32Bits);
  });

  it('matches numpy on every float16 bit pattern', () => {
    // Python: sha256(np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    //         .view(np.uint32).astype('<u4').tobytes())
    const all = new Uint16Array(0x10000);
    for (let i = 0; i < all.length; i++) all[i] = i;
    expect(sha256Hex(float16ToFloat32Array(all))).toBe(
      'f4fdd084f85448d28c84f20fabf4022ba938e40b7f382d2727dec6f41ac6267a',
    );
  });

  it('writes into a view with an offset, NaN payloads kept', () => {
    const backing = new Float32Array(4);
    float16ToFloat32Into(Uint16Array.of(0x3c00, 0x7e01, 0x8001), backing.subarray(1));
    expect(Array.from(new Uint32Array(backing.buffer))).toEqual([0, 0x3f800000, 0x7fc02000, 0xb3800000]);
    expect(() => float16ToFloat32Into(Uint16Array.of(1), new Float32Array(2))).toThrow(RangeError);
  });

  it('round-trips every float16 value bit for bit, NaN payloads included', () => {
    for (let half = 0; half < 0x10000; half++) {
      const back = float32BitsToFloat16Bits(float16BitsToFloat32Bits(half));
      if (back !== half) throw new Error(`0x${half.toString(16)} came back as 0x${back.toString(16)}`);
    }
    expect(fromFloat16Bits(0x3555)).toBe(0.333251953125);
    expect(fromFloat16Bits(0x0001)).toBe(2 ** -24);
    expect(Object.is(fromFloat16Bits(0x8000), -0)).toBe(true);
  });
});
