// DDIMScheduler: denoising diffusion implicit models (Song et al. 2020,
// https://arxiv.org/abs/2010.02502), ported from diffusers/schedulers/scheduling_ddim.py with
// eta = 0, the deterministic sampler the ONNX pipeline runs by default (its `eta` argument).
import { z } from 'zod';
import type { NormalSource } from '../types';
import { alphaCumprodAt, noiseSchedule } from './beta-schedule';
import { betaScheduleFields, DDPM_BETAS, parseSchedulerConfig, requireSetting, setting } from './config';
import { linspace, arange, roundHalfEven } from './numpy-compat';
import { outputFor, type RawSchedulerConfig, type Scheduler } from './scheduler';
import { assertStepCount, unknownSpacing } from './spacing';

const f32 = Math.fround;

export const ddimConfigSchema = z.object({
  ...betaScheduleFields(DDPM_BETAS),
  clip_sample: setting(z.boolean(), true),
  set_alpha_to_one: setting(z.boolean(), true),
  steps_offset: setting(z.int(), 0),
  prediction_type: setting(z.string(), 'epsilon'),
  thresholding: setting(z.boolean(), false),
  dynamic_thresholding_ratio: setting(z.number(), 0.995),
  clip_sample_range: setting(z.number(), 1.0),
  sample_max_value: setting(z.number(), 1.0),
  timestep_spacing: setting(z.string(), 'leading'),
  rescale_betas_zero_snr: setting(z.boolean(), false),
});
export type DDIMConfig = z.output<typeof ddimConfigSchema>;

export class DDIMScheduler implements Scheduler {
  readonly config: Readonly<DDIMConfig>;
  readonly initNoiseSigma = 1;
  readonly #alphasCumprod: Float32Array;
  /**
   * "At every step in ddim, we are looking into the previous alphas_cumprod. For the final step,
   * there is no previous alphas_cumprod because we are already at 0": 1, or ᾱ_0 with
   * set_alpha_to_one false (Stable Diffusion).
   */
  readonly #finalAlphaCumprod: number;
  #numInferenceSteps: number | null = null;
  #timesteps: number[] = [];

  constructor(config: RawSchedulerConfig) {
    this.config = parseSchedulerConfig('DDIMScheduler', ddimConfigSchema, config);
    requireSetting('DDIMScheduler', 'prediction_type', this.config.prediction_type, ['epsilon', 'sample', 'v_prediction']);
    requireSetting('DDIMScheduler', 'thresholding', this.config.thresholding, [false]);
    this.#alphasCumprod = noiseSchedule('DDIMScheduler', this.config, this.config.rescale_betas_zero_snr).alphasCumprod;
    this.#finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.#alphasCumprod[0]!;
  }

  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  setTimesteps(numInferenceSteps: number): void {
    const { num_train_timesteps: trainSteps, timestep_spacing: spacing } = this.config;
    assertStepCount('DDIMScheduler', numInferenceSteps, trainSteps);
    this.#numInferenceSteps = numInferenceSteps;
    if (spacing === 'linspace') {
      this.#timesteps = linspace(0, trainSteps - 1, numInferenceSteps).map(roundHalfEven).reverse();
    } else if (spacing === 'leading') {
      // Integer timesteps by multiplying by the ratio, then the offset (steps_offset=1 for SD).
      const stepRatio = Math.floor(trainSteps / numInferenceSteps);
      this.#timesteps = Array.from({ length: numInferenceSteps }, (_, i) => i * stepRatio)
        .reverse()
        .map((t) => t + this.config.steps_offset);
    } else if (spacing === 'trailing') {
      const stepRatio = trainSteps / numInferenceSteps;
      this.#timesteps = arange(trainSteps, 0, -stepRatio).map((t) => roundHalfEven(t) - 1);
    } else {
      throw unknownSpacing('DDIMScheduler', spacing);
    }
  }

  /** DDIM does not scale the UNet's input. */
  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(
    modelOutput: Float32Array,
    timestep: number,
    sample: Float32Array,
    _noise?: NormalSource,
    out?: Float32Array,
  ): Float32Array {
    if (this.#numInferenceSteps === null) {
      throw new Error("Number of inference steps is 'None', you need to run 'set_timesteps' after creating the scheduler");
    }
    const prevSample = outputFor(sample, out);
    // Notation (<variable name> -> <name in paper>): pred_noise_t -> ε_θ(x_t, t),
    // pred_original_sample -> f_θ(x_t, t) or x_0, std_dev_t -> σ_t, eta -> η,
    // pred_sample_direction -> "direction pointing to x_t", pred_prev_sample -> x_(t−1).

    // 1. get previous step value (= t − 1). diffusers keeps this even for "linspace"/"trailing"
    //    spacing, where it is not the next timestep of the schedule; so does this port.
    const prevTimestep = timestep - Math.floor(this.config.num_train_timesteps / this.#numInferenceSteps);

    // 2. compute alphas, betas
    const alphaProdT = alphaCumprodAt('DDIMScheduler', this.#alphasCumprod, timestep);
    const alphaProdTPrev =
      prevTimestep >= 0 ? alphaCumprodAt('DDIMScheduler', this.#alphasCumprod, prevTimestep) : this.#finalAlphaCumprod;
    const betaProdT = f32(1 - alphaProdT);
    const sqrtAlphaT = f32(Math.sqrt(alphaProdT));
    const sqrtBetaT = f32(Math.sqrt(betaProdT));

    // 5. compute variance σ_t(η) of formula (16); with η = 0 it is 0 and the sampler deterministic.
    const stdDevT = 0;
    // 6. the coefficient of "direction pointing to x_t" of formula (12): √(1 − ᾱ_(t−1) − σ_t²)
    const directionCoeff = f32(Math.sqrt(f32(f32(1 - alphaProdTPrev) - stdDevT * stdDevT)));
    const sqrtAlphaPrev = f32(Math.sqrt(alphaProdTPrev));
    const { prediction_type: prediction, clip_sample: clip, clip_sample_range: range } = this.config;

    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      // 3. compute predicted original sample from predicted noise, also called "predicted x_0" of
      //    formula (12) of the DDIM paper, and the noise it implies
      let predOriginal: number;
      let predEpsilon: number;
      if (prediction === 'epsilon') {
        predOriginal = f32(f32(x - f32(sqrtBetaT * m)) / sqrtAlphaT);
        predEpsilon = m;
      } else if (prediction === 'sample') {
        predOriginal = m;
        predEpsilon = f32(f32(x - f32(sqrtAlphaT * m)) / sqrtBetaT);
      } else {
        // v-prediction (Salimans & Ho 2022, section 4): x_0 = √ᾱ x − √(1−ᾱ) v, ε = √ᾱ v + √(1−ᾱ) x
        predOriginal = f32(f32(sqrtAlphaT * x) - f32(sqrtBetaT * m));
        predEpsilon = f32(f32(sqrtAlphaT * m) + f32(sqrtBetaT * x));
      }
      // 4. clip "predicted x_0" (the ONNX pipeline forces clip_sample off for Stable Diffusion)
      if (clip) predOriginal = f32(Math.min(Math.max(predOriginal, -range), range));
      // 7. compute x_(t−1) without "random noise" of formula (12): √ᾱ_(t−1) x_0 + direction
      prevSample[i] = f32(f32(sqrtAlphaPrev * predOriginal) + f32(directionCoeff * predEpsilon));
    }
    return prevSample;
  }
}
