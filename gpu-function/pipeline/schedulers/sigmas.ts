// The k-diffusion view of a discrete schedule shared by the Euler and DPM-Solver ports:
// σ_t = √((1 − ᾱ_t)/ᾱ_t), interpolated at (possibly fractional) inference timesteps.
import { interpAtIntegers } from './numpy-compat';

const f32 = Math.fround;

/** `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5`, elementwise in float32. */
export function trainingSigmas(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => f32(Math.sqrt(f32(f32(1 - a) / a))));
}

/**
 * `np.interp(timesteps, np.arange(0, len(sigmas)), sigmas)` then `np.concatenate([.., [last]])
 * .astype(np.float32)`: one σ per inference timestep plus the final σ.
 */
export function inferenceSigmas(timesteps: readonly number[], sigmas: Float32Array, last: number): Float32Array {
  const out = new Float32Array(timesteps.length + 1);
  timesteps.forEach((t, i) => {
    out[i] = interpAtIntegers(t, sigmas);
  });
  out[timesteps.length] = last;
  return out;
}

/**
 * The Euler schedulers' init_noise_sigma: max σ for "linspace" and "trailing" spacing, else
 * √(max σ² + 1), in float32 (diffusers' EulerDiscreteScheduler.init_noise_sigma property).
 */
export function eulerInitNoiseSigma(sigmas: Float32Array, timestepSpacing: string): number {
  let max = -Infinity;
  for (const sigma of sigmas) if (sigma > max) max = sigma;
  if (timestepSpacing === 'linspace' || timestepSpacing === 'trailing') return max;
  return f32(Math.sqrt(f32(f32(max * max) + 1)));
}

/**
 * `index_for_timestep`: where `timestep` sits in the schedule. For a timestep that appears twice
 * the second one is taken, "so we don't accidentally skip a sigma in case we start in the middle
 * of the denoising schedule" (scheduling_euler_discrete.py).
 */
export function indexForTimestep(className: string, timesteps: readonly number[], timestep: number): number {
  const first = timesteps.indexOf(timestep);
  if (first === -1) throw new RangeError(`${className}: timestep ${timestep} is not in the schedule`);
  const second = timesteps.indexOf(timestep, first + 1);
  return second === -1 ? first : second;
}
