// EulerDiscreteScheduler: Euler's method on the probability-flow ODE in σ (Karras et al. 2022,
// https://arxiv.org/abs/2206.00364, Algorithm 2 without churn), after k-diffusion's sample_euler,
// ported from diffusers/schedulers/scheduling_euler_discrete.py.
import { z } from 'zod';
import type { NormalSource } from '../types';
import { noiseSchedule } from './beta-schedule';
import { betaScheduleFields, DDPM_BETAS, parseSchedulerConfig, requireSetting, setting } from './config';
import { arange, linspace, roundHalfEven } from './numpy-compat';
import { outputFor, type RawSchedulerConfig, type Scheduler } from './scheduler';
import { eulerInitNoiseSigma, indexForTimestep, inferenceSigmas, trainingSigmas } from './sigmas';
import { assertStepCount, unknownSpacing } from './spacing';

const f32 = Math.fround;

export const eulerDiscreteConfigSchema = z.object({
  ...betaScheduleFields(DDPM_BETAS),
  prediction_type: setting(z.string(), 'epsilon'),
  interpolation_type: setting(z.string(), 'linear'),
  use_karras_sigmas: setting(z.boolean(), false),
  use_exponential_sigmas: setting(z.boolean(), false),
  use_beta_sigmas: setting(z.boolean(), false),
  timestep_spacing: setting(z.string(), 'linspace'),
  timestep_type: setting(z.string(), 'discrete'),
  steps_offset: setting(z.int(), 0),
  rescale_betas_zero_snr: setting(z.boolean(), false),
  final_sigmas_type: setting(z.string(), 'zero'),
});
export type EulerDiscreteConfig = z.output<typeof eulerDiscreteConfigSchema>;

export class EulerDiscreteScheduler implements Scheduler {
  readonly config: Readonly<EulerDiscreteConfig>;
  readonly #alphasCumprod: Float32Array;
  /** σ of every training timestep, ascending in t. */
  readonly #trainingSigmas: Float32Array;
  #sigmas: Float32Array;
  #timesteps: number[] = [];
  #stepIndex: number | null = null;

  constructor(config: RawSchedulerConfig) {
    const name = 'EulerDiscreteScheduler';
    this.config = parseSchedulerConfig(name, eulerDiscreteConfigSchema, config);
    const c = this.config;
    requireSetting(name, 'prediction_type', c.prediction_type, ['epsilon', 'v_prediction', 'sample', 'original_sample']);
    requireSetting(name, 'interpolation_type', c.interpolation_type, ['linear']);
    requireSetting(name, 'use_karras_sigmas', c.use_karras_sigmas, [false]);
    requireSetting(name, 'use_exponential_sigmas', c.use_exponential_sigmas, [false]);
    requireSetting(name, 'use_beta_sigmas', c.use_beta_sigmas, [false]);
    requireSetting(name, 'timestep_type', c.timestep_type, ['discrete']);
    requireSetting(name, 'final_sigmas_type', c.final_sigmas_type, ['zero', 'sigma_min']);
    const { alphasCumprod } = noiseSchedule(name, c, c.rescale_betas_zero_snr);
    this.#alphasCumprod = zeroSnrSafe(alphasCumprod, c.rescale_betas_zero_snr);
    this.#trainingSigmas = trainingSigmas(this.#alphasCumprod);
    // Before set_timesteps: every training σ, descending, then 0.
    this.#sigmas = Float32Array.from([...this.#trainingSigmas].reverse().concat(0));
  }

  get initNoiseSigma(): number {
    return eulerInitNoiseSigma(this.#sigmas, this.config.timestep_spacing);
  }

  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  /** σ_i for each inference timestep, then the final σ (0, or σ_min with final_sigmas_type "sigma_min"). */
  get sigmas(): Float32Array {
    return this.#sigmas.slice();
  }

  setTimesteps(numInferenceSteps: number): void {
    const name = 'EulerDiscreteScheduler';
    const { num_train_timesteps: trainSteps, timestep_spacing: spacing } = this.config;
    assertStepCount(name, numInferenceSteps, trainSteps);
    this.#timesteps = eulerTimesteps(name, spacing, trainSteps, numInferenceSteps, this.config.steps_offset);
    const sigmaLast = this.config.final_sigmas_type === 'sigma_min' ? this.#trainingSigmas[0]! : 0;
    this.#sigmas = inferenceSigmas(this.#timesteps, this.#trainingSigmas, sigmaLast);
    this.#stepIndex = null;
  }

  /** Scales the UNet input by 1/√(σ² + 1) "to match the Euler algorithm" (the EDM c_in). */
  scaleModelInput(sample: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    const sigma = this.#sigmas[this.#initStepIndex(timestep)]!;
    return scaleBySigma(sample, sigma, outputFor(sample, out));
  }

  step(
    modelOutput: Float32Array,
    timestep: number,
    sample: Float32Array,
    _noise?: NormalSource,
    out?: Float32Array,
  ): Float32Array {
    const prevSample = outputFor(sample, out);
    const index = this.#initStepIndex(timestep);
    const sigma = this.#sigmas[index]!;
    // Churn γ is 0 with diffusers' defaults (s_churn = 0), so σ̂ = σ(γ + 1) = σ and no noise is drawn.
    const sigmaHat = sigma;
    // v-prediction: denoised = model_output · c_out + input · c_skip, c_out = −σ/√(σ²+1), c_skip = 1/(σ²+1)
    const sigmaSqPlus1 = f32(f32(sigma * sigma) + 1);
    const cOut = f32(-sigma / f32(Math.sqrt(sigmaSqPlus1)));
    const dt = f32(this.#sigmas[index + 1]! - sigmaHat);
    const prediction = this.config.prediction_type;

    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      // 1. compute predicted original sample (x_0) from sigma-scaled predicted noise
      let predOriginal: number;
      if (prediction === 'epsilon') predOriginal = f32(x - f32(sigmaHat * m));
      else if (prediction === 'v_prediction') predOriginal = f32(f32(m * cOut) + f32(x / sigmaSqPlus1));
      else predOriginal = m;
      // 2. convert to an ODE derivative: d = (x − x_0)/σ̂
      const derivative = f32(f32(x - predOriginal) / sigmaHat);
      // 3. Euler step: x_(i+1) = x_i + d·(σ_(i+1) − σ̂)
      prevSample[i] = f32(x + f32(derivative * dt));
    }
    this.#stepIndex = index + 1;
    return prevSample;
  }

  #initStepIndex(timestep: number): number {
    this.#stepIndex ??= indexForTimestep('EulerDiscreteScheduler', this.#timesteps, timestep);
    return this.#stepIndex;
  }
}

/**
 * The Euler schedulers' float32 timesteps for each timestep_spacing (shared with
 * EulerAncestralDiscreteScheduler, whose set_timesteps is the same code).
 */
export function eulerTimesteps(
  className: string,
  spacing: string,
  trainSteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  if (spacing === 'linspace') {
    // np.linspace(0, T − 1, n, dtype=np.float32)[::-1]: fractional timesteps, e.g. 957.375
    return linspace(0, trainSteps - 1, numInferenceSteps).map(f32).reverse();
  }
  if (spacing === 'leading') {
    const stepRatio = Math.floor(trainSteps / numInferenceSteps);
    return Array.from({ length: numInferenceSteps }, (_, i) => i * stepRatio)
      .reverse()
      .map((t) => f32(t + stepsOffset));
  }
  if (spacing === 'trailing') {
    const stepRatio = trainSteps / numInferenceSteps;
    return arange(trainSteps, 0, -stepRatio).map((t) => f32(roundHalfEven(t) - 1));
  }
  throw unknownSpacing(className, spacing);
}

/**
 * With zero terminal SNR, ᾱ_T = 0 would make σ_T infinite; diffusers sets it to 2^−24 ("FP16
 * smallest positive subnormal works well here").
 */
export function zeroSnrSafe(alphasCumprod: Float32Array, rescaled: boolean): Float32Array {
  if (rescaled) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  return alphasCumprod;
}

/** x / √(σ² + 1) in float32, into `out` (the scale_model_input of both Euler schedulers). */
export function scaleBySigma(sample: Float32Array, sigma: number, out: Float32Array): Float32Array {
  const denom = f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
  for (let i = 0; i < sample.length; i++) out[i] = f32(sample[i]! / denom);
  return out;
}
