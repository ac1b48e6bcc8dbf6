// The noise schedule every scheduler class builds in __init__: betas from beta_schedule (or
// trained_betas), optionally rescaled to zero terminal SNR, then alphas_cumprod, all in torch
// float32 exactly as diffusers computes them (e.g. diffusers/schedulers/scheduling_ddim.py).
import { torchCumprodFloat32, torchLinspaceFloat32 } from './torch-float32';

const f32 = Math.fround;

export interface BetaScheduleConfig {
  readonly num_train_timesteps: number;
  readonly beta_start: number;
  readonly beta_end: number;
  readonly beta_schedule: string;
  readonly trained_betas: readonly number[] | null;
}

export interface NoiseSchedule {
  readonly betas: Float32Array;
  /** ᾱ_t = ∏_{s≤t} (1 − β_s) for t = 0 … num_train_timesteps − 1. */
  readonly alphasCumprod: Float32Array;
}

/** The schedule for a config; `rescaleBetasZeroSnr` applies rescale_zero_terminal_snr first. */
export function noiseSchedule(className: string, config: BetaScheduleConfig, rescaleBetasZeroSnr = false): NoiseSchedule {
  let betas = betasFor(className, config);
  if (rescaleBetasZeroSnr) betas = rescaleZeroTerminalSnr(betas);
  const alphas = betas.map((beta) => f32(1 - beta));
  return { betas, alphasCumprod: torchCumprodFloat32(alphas) };
}

function betasFor(className: string, config: BetaScheduleConfig): Float32Array {
  const n = config.num_train_timesteps;
  if (config.trained_betas !== null) return Float32Array.from(config.trained_betas);
  switch (config.beta_schedule) {
    case 'linear':
      return torchLinspaceFloat32(config.beta_start, config.beta_end, n);
    case 'scaled_linear':
      // "this schedule is very specific to the latent diffusion model": linear in √β, then squared.
      return torchLinspaceFloat32(config.beta_start ** 0.5, config.beta_end ** 0.5, n).map((b) => f32(b * b));
    case 'squaredcos_cap_v2':
      return betasForAlphaBar(n);
    default:
      // The same three diffusers' __init__ accepts (it raises NotImplementedError for anything else):
      // a model whose scheduler_config.json names another schedule is refused at load, not guessed at.
      throw new RangeError(
        `beta_schedule "${config.beta_schedule}" is not one ${className} accepts (linear, scaled_linear, squaredcos_cap_v2)`,
      );
  }
}

/**
 * Glide's cosine schedule (Nichol & Dhariwal 2021, eq. 17): β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), 0.999)
 * with ᾱ(t) = cos²((t + 0.008)/1.008 · π/2), in Python floats, then float32 (betas_for_alpha_bar).
 */
function betasForAlphaBar(numDiffusionTimesteps: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const betas = new Float32Array(numDiffusionTimesteps);
  for (let i = 0; i < numDiffusionTimesteps; i++) {
    const t1 = i / numDiffusionTimesteps;
    const t2 = (i + 1) / numDiffusionTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/**
 * Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Algorithm 1:
 * shift and scale √ᾱ so the last timestep has zero SNR (diffusers' rescale_zero_terminal_snr).
 */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const alphasCumprod = torchCumprodFloat32(betas.map((beta) => f32(1 - beta)));
  const sqrtBar = alphasCumprod.map((a) => f32(Math.sqrt(a)));
  const first = sqrtBar[0]!;
  const last = sqrtBar[sqrtBar.length - 1]!;
  const scale = f32(first / f32(first - last));
  const shifted = sqrtBar.map((s) => f32(f32(s - last) * scale));
  const bar = shifted.map((s) => f32(s * s));
  const out = new Float32Array(bar.length);
  out[0] = f32(1 - bar[0]!);
  for (let i = 1; i < bar.length; i++) out[i] = f32(1 - f32(bar[i]! / bar[i - 1]!));
  return out;
}

/**
 * ᾱ at an integer training timestep; diffusers indexes `alphas_cumprod[timestep]` and raises
 * IndexError for anything else, so a fractional or out-of-range timestep is an error here too.
 */
export function alphaCumprodAt(className: string, alphasCumprod: Float32Array, timestep: number): number {
  const value = Number.isInteger(timestep) ? alphasCumprod[timestep] : undefined;
  if (value === undefined) {
    const last = alphasCumprod.length - 1;
    throw new RangeError(`${className}: timestep ${timestep} is not a training timestep (0 … ${last})`);
  }
  return value;
}
