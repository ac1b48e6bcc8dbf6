// The numpy float64 routines diffusers' set_timesteps uses, reproduced bit for bit: np.linspace,
// np.arange with a float step, np.round (half to even) and np.interp over integer sample points.

/** `np.linspace(start, stop, num, endpoint)` in float64 (numpy/_core/function_base.py). */
export function linspace(start: number, stop: number, num: number, endpoint = true): number[] {
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : Number.NaN;
  const out: number[] = [];
  // numpy multiplies arange(num) by step in place, then adds start: two roundings, as written.
  for (let i = 0; i < num; i++) out.push(div > 0 ? i * step + start : start);
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/**
 * `np.arange(start, stop, step)` with a float step: length ceil((stop - start) / step), values
 * start + i·delta where delta is re-derived from the second element (numpy's DOUBLE_fill).
 */
export function arange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const out: number[] = [];
  if (length === 0) return out;
  out.push(start);
  if (length === 1) return out;
  const second = start + step;
  out.push(second);
  const delta = second - start;
  for (let i = 2; i < length; i++) out.push(start + i * delta);
  return out;
}

/** `np.round(x)`: to the nearest integer, ties to even (numpy rounds with rint). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * `np.interp(x, np.arange(0, len(fp)), fp)`: linear interpolation between integer sample points,
 * in float64, the ends clamped (numpy/_core/src/multiarray/compiled_base.c, arr_interp).
 */
export function interpAtIntegers(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (Number.isNaN(x)) return x;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  const left = fp[j]!;
  if (x === j) return left;
  const right = fp[j + 1]!;
  const slope = right - left;
  return slope * (x - j) + left;
}
