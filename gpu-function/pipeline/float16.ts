// IEEE 754 binary16 <-> binary32 conversions for float16 ONNX models. Node 20 has no Float16Array, so
// onnxruntime-node hands float16 tensors over as Uint16Array bit patterns; these functions turn them into
// float32 and back. The rules follow numpy's `npy_floatbits_to_halfbits` / `npy_halfbits_to_floatbits`
// (numpy/_core/src/common/half_private.hpp), so a float16 tensor built here has the bits numpy's
// `arr.astype(np.float16)` gives diffusers: round to nearest, ties to even; subnormals; overflow to
// infinity; NaN payloads kept (the top 10 bits of the float32 payload, never turning a NaN into infinity).

import { float32Kernels } from './kernels/simd-kernels';

/** Below this many values the copies into the SIMD kernels' memory cost more than they save. */
export const KERNEL_MIN_LENGTH = 64;

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The float16 bit pattern nearest to a float32 bit pattern (round to nearest, ties to even). */
export function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) {
    if (mantissa === 0) return sign | 0x7c00;
    // NaN: keep the payload's top bits, but a payload that lives only in the low 13 bits would read as
    // infinity, so set the lowest bit then (numpy does the same).
    const payload = mantissa >>> 13;
    return sign | 0x7c00 | (payload === 0 ? 1 : payload);
  }
  // 2^16 and above (biased exponent 143+) overflows; values just under it still round up to
  // infinity below, through the carry into the exponent field.
  if (exponent >= 143) return sign | 0x7c00;
  if (exponent <= 112) {
    // Below 2^-14: a float16 subnormal, m × 2^-24. Anything below 2^-25 rounds to zero; 2^-25 itself is a
    // tie and goes to the even neighbour, zero.
    if (exponent < 102) return sign;
    const significand = mantissa | 0x800000;
    const shift = 126 - exponent; // 14 for 2^-15, 24 for 2^-25
    return sign | roundShiftRightEven(significand, shift);
  }
  // Normal: rebias the exponent (127 → 15) and round the 23-bit mantissa to 10 bits. A carry out of the
  // mantissa correctly bumps the exponent, up to infinity (0x7c00) for 65520 and above.
  const truncated = ((exponent - 112) << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (truncated & 1) === 1)) return sign | (truncated + 1);
  return sign | truncated;
}

function roundShiftRightEven(value: number, shift: number): number {
  const truncated = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (truncated & 1) === 1)) return truncated + 1;
  return truncated;
}

/** The float32 bit pattern of a float16 bit pattern (exact: every float16 is a float32). */
export function float16BitsToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal m × 2^-24: normalise so the leading 1 becomes the implicit bit.
  const shift = Math.clz32(mantissa) - 21; // leading 1 of a 10-bit mantissa moved to bit 10
  return (sign | ((113 - shift) << 23) | (((mantissa << shift) & 0x3ff) << 13)) >>> 0;
}

/** A JS number rounded to float16, as bits. The number is first rounded to float32 (as a Float32Array holds it). */
export function toFloat16Bits(value: number): number {
  scratch[0] = value;
  return float32BitsToFloat16Bits(scratchBits[0] ?? 0);
}

/** The value of a float16 bit pattern as a JS number. */
export function fromFloat16Bits(half: number): number {
  scratchBits[0] = float16BitsToFloat32Bits(half);
  return scratch[0] ?? Number.NaN;
}

/** Float32 data to float16 bit patterns, element by element. */
export function float32ToFloat16Array(values: Float32Array): Uint16Array {
  return float32ToFloat16Into(values, new Uint16Array(values.length));
}

/** The fast path's range of |x| as float32 bits: from 2^-14, the smallest normal float16 … */
const NORMAL_FLOAT16_LOW = 0x38800000;
/** … up to (not including) 2^15, where no rounding carry can reach infinity. */
const NORMAL_FLOAT16_HIGH = 0x47000000;
/** (127 − 15) << 23: rebiases a float32 exponent to float16's. */
const EXPONENT_REBIAS = 0x38000000;

/**
 * Float32 data to float16 bit patterns written into `out` (same length), bit-identical to
 * float32BitsToFloat16Bits. This runs on every UNet input of every denoising step, so values of normal
 * float16 magnitude (all a latent ever holds) take a branch-free path: rebias the exponent, then round the
 * 13 dropped mantissa bits to nearest even by adding 0xfff plus the kept lowest bit before shifting (a carry
 * correctly bumps the exponent). Zeros, subnormals, overflow and NaN go through the general function.
 */
export function float32ToFloat16Into(values: Float32Array, out: Uint16Array): Uint16Array {
  if (out.length !== values.length) throw new RangeError(`out holds ${out.length} values, expected ${values.length}`);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const n = bits.length;
  // A latent's worth: the same fast path four lanes at a time (kernels/), the groups it lists by the general function.
  const kernels = n >= KERNEL_MIN_LENGTH ? float32Kernels() : undefined;
  if (kernels !== undefined) {
    for (const start of kernels.float32ToFloat16(values, out)) {
      for (let i = start; i < Math.min(start + 4, n); i++) out[i] = float32BitsToFloat16Bits(bits[i]!);
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const x = bits[i]!;
    const magnitude = x & 0x7fffffff;
    if (magnitude >= NORMAL_FLOAT16_LOW && magnitude < NORMAL_FLOAT16_HIGH) {
      const rebiased = magnitude - EXPONENT_REBIAS;
      out[i] = ((x >>> 16) & 0x8000) | ((rebiased + 0xfff + ((rebiased >>> 13) & 1)) >>> 13);
    } else {
      out[i] = float32BitsToFloat16Bits(x);
    }
  }
  return out;
}

// Decoding is a table look-up: 65 536 float32 bit patterns (256 KiB), built on first use.
let decodeBits: Uint32Array | undefined;
let decodeTable: Float32Array | undefined;

function float16DecodeBits(): Uint32Array {
  if (decodeBits === undefined) {
    decodeBits = new Uint32Array(0x10000);
    for (let half = 0; half < 0x10000; half++) decodeBits[half] = float16BitsToFloat32Bits(half);
  }
  return decodeBits;
}

/** Float16 bit patterns to float32 values, element by element (exact). */
export function float16ToFloat32Array(halves: Uint16Array): Float32Array {
  return float16ToFloat32Into(halves, new Float32Array(halves.length));
}

/** Float16 bit patterns to float32 values written into `out` (same length), exact. */
export function float16ToFloat32Into(halves: Uint16Array, out: Float32Array): Float32Array {
  if (out.length !== halves.length) throw new RangeError(`out holds ${out.length} values, expected ${halves.length}`);
  // Copy through integer views so NaN payloads survive bit for bit.
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const tableBits = float16DecodeBits();
  for (let i = 0; i < halves.length; i++) outBits[i] = tableBits[halves[i]!]!;
  return out;
}

/**
 * The decode table as float32 values (65 536 entries, 256 KiB, built on first use): `table[half]` is the
 * value of the float16 bit pattern `half`. For loops that decode and compute in one pass (guidance).
 */
export function float16DecodeTable(): Float32Array {
  return decodeTable ??= new Float32Array(float16DecodeBits().buffer);
}
