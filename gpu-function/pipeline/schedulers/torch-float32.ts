// torch's CPU float32 kernels that diffusers' schedulers run at construction time, reproduced bit
// for bit: torch.linspace(..., dtype=torch.float32) and torch.cumprod. Elementwise float32 ops
// (+, -, *, /, sqrt) need no helper: one Math.fround after each double op is exactly the IEEE
// float32 result, because a double holds more than twice float32's 24-bit significand.

const f32 = Math.fround;

/** Vectorized<float>::size() of torch's AVX2 kernels: 8 floats per 256-bit register. */
const AVX2_FLOATS = 8;

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` on the CPU.
 *
 * Mirrors aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp (linspace_kernel) as the AVX2 build
 * of torch 2.x up to 2.5 runs it: the step is float32 `(end - start) / (steps - 1)`; the first half
 * counts up from `start`, the second half down from `end`; cpu_serial_kernel_vec fills blocks of
 * 2×8 values with `Vectorized::arange(base, step)` (base = start + step·idx, then base + k·step,
 * each a fused multiply-add as GCC contracts them with -mfma) and the last `steps % 16` values with
 * the scalar lambda. This is what made the reference images (manifest init_noise_sigma
 * 14.614645004272461 for SD's scaled_linear betas). Later torch builds compute every element as
 * one fma from `start`, which moves about a fifth of the 1000 betas by one ulp; invisible in
 * pictures, but it would change that pinned sigma to 14.614646911621094.
 */
export function torchLinspaceFloat32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const from = f32(start);
  const to = f32(end);
  const step = f32(f32(to - from) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const at = (idx: number): number => (idx < halfway ? fmaf(step, idx, from) : fmaf(-step, steps - idx - 1, to));
  const block = 2 * AVX2_FLOATS;
  const vectorized = steps - (steps % block);
  for (let idx = 0; idx < vectorized; idx += AVX2_FLOATS) {
    const base = at(idx);
    for (let k = 0; k < AVX2_FLOATS; k++) out[idx + k] = fmaf(k, step, base);
  }
  for (let idx = vectorized; idx < steps; idx++) out[idx] = at(idx);
  return out;
}

/**
 * `torch.cumprod(x, dim=0)` of a float32 tensor on the CPU: cumprod_cpu_kernel accumulates in
 * at::acc_type<float, false>, which is double, and stores each partial product as float32.
 */
export function torchCumprodFloat32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let product = 1;
  for (let i = 0; i < values.length; i++) {
    product *= values[i]!;
    out[i] = product;
  }
  return out;
}

/** `std::fma(a, b, c)` in float32 (`_mm256_fmadd_ps`), for float32 `a`, `c` and a small integer-valued `b` or vice versa. */
export function fmaf(a: number, b: number, c: number): number {
  // a·b is exact in double (24-bit significand times an integer below 2^29). The double sum can
  // round once before Math.fround rounds again; that double rounding only matters when the double
  // sum lands exactly halfway between two floats, so resolve that case with the sum's error term.
  const product = a * b;
  const sum = product + c;
  const rounded = f32(sum);
  if (rounded === sum) return rounded;
  const virtualC = sum - product;
  const error = product - (sum - virtualC) + (c - virtualC);
  if (error === 0) return rounded;
  const other = rounded > sum ? nextFloat32Down(rounded) : nextFloat32Up(rounded);
  if ((rounded + other) / 2 !== sum) return rounded;
  // A tie in double that the exact sum breaks: the exact value lies on the side of `error`.
  const up = Math.max(rounded, other);
  const down = Math.min(rounded, other);
  return error > 0 ? up : down;
}

const bits = new DataView(new ArrayBuffer(4));

function nextFloat32Up(x: number): number {
  if (x === 0) return 1.4e-45;
  bits.setFloat32(0, x);
  bits.setInt32(0, bits.getInt32(0) + (x > 0 ? 1 : -1));
  return bits.getFloat32(0);
}

function nextFloat32Down(x: number): number {
  return -nextFloat32Up(-x);
}
