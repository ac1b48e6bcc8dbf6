// LCMScheduler: multistep sampling of latent consistency models (Luo et al. 2023,
// https://arxiv.org/abs/2310.04378; the multistep consistency sampling of Song et al. 2023,
// https://arxiv.org/abs/2303.01469, Algorithm 1), ported from diffusers/schedulers/scheduling_lcm.py.
//
// Noise: between steps the consistency sample is re-noised with z ~ N(0, I). diffusers draws z
// with randn_tensor(generator=...), and the ONNX pipeline passes no generator (torch's global RNG);
// here z comes from the request's own RandomState (`noise`), continuing after the initial latents,
// one randn(len(sample)) per step except the last. One-step sampling draws nothing.
import { z } from 'zod';
import type { NormalSource } from '../types';
import { alphaCumprodAt, noiseSchedule } from './beta-schedule';
import { betaScheduleFields, parseSchedulerConfig, requireSetting, setting } from './config';
import { linspace } from './numpy-compat';
import { outputFor, type RawSchedulerConfig, type Scheduler } from './scheduler';
import { indexForTimestep } from './sigmas';
import { assertStepCount } from './spacing';

const f32 = Math.fround;

/** σ_data of the consistency-model boundary conditions c_skip, c_out (diffusers' default 0.5). */
const SIGMA_DATA = 0.5;

export const lcmConfigSchema = z.object({
  ...betaScheduleFields({ beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' }),
  original_inference_steps: setting(z.int().positive(), 50),
  clip_sample: setting(z.boolean(), false),
  clip_sample_range: setting(z.number(), 1.0),
  set_alpha_to_one: setting(z.boolean(), true),
  steps_offset: setting(z.int(), 0),
  prediction_type: setting(z.string(), 'epsilon'),
  thresholding: setting(z.boolean(), false),
  // Read but unused, as in diffusers: LCM timesteps always come from the distillation schedule.
  timestep_spacing: setting(z.string(), 'leading'),
  timestep_scaling: setting(z.number(), 10.0),
  rescale_betas_zero_snr: setting(z.boolean(), false),
});
export type LCMConfig = z.output<typeof lcmConfigSchema>;

export class LCMScheduler implements Scheduler {
  readonly config: Readonly<LCMConfig>;
  readonly initNoiseSigma = 1;
  readonly #alphasCumprod: Float32Array;
  readonly #finalAlphaCumprod: number;
  #timesteps: number[] = [];
  #stepIndex: number | null = null;
  /** Where the re-noising draws go (one latent's worth, reused). */
  #noise: Float32Array | undefined;

  constructor(config: RawSchedulerConfig) {
    this.config = parseSchedulerConfig('LCMScheduler', lcmConfigSchema, config);
    requireSetting('LCMScheduler', 'prediction_type', this.config.prediction_type, ['epsilon', 'sample', 'v_prediction']);
    requireSetting('LCMScheduler', 'thresholding', this.config.thresholding, [false]);
    this.#alphasCumprod = noiseSchedule('LCMScheduler', this.config, this.config.rescale_betas_zero_snr).alphasCumprod;
    this.#finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.#alphasCumprod[0]!;
  }

  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  setTimesteps(numInferenceSteps: number): void {
    const { num_train_timesteps: trainSteps, original_inference_steps: originalSteps } = this.config;
    assertStepCount('LCMScheduler', numInferenceSteps, trainSteps);
    if (originalSteps > trainSteps) {
      throw new RangeError(
        `LCMScheduler: original_inference_steps (${originalSteps}) cannot be larger than num_train_timesteps (${trainSteps})`,
      );
    }
    if (numInferenceSteps > originalSteps) {
      throw new RangeError(
        `LCMScheduler: num_inference_steps (${numInferenceSteps}) cannot be larger than original_inference_steps ` +
          `(${originalSteps}), because the schedule is a subset of the ${originalSteps}-step distillation schedule`,
      );
    }
    // 1. The LCM training/distillation schedule: every k-th timestep, k the skipping step of the paper.
    const k = Math.floor(trainSteps / originalSteps);
    const origin = Array.from({ length: originalSteps }, (_, i) => (i + 1) * k - 1).reverse();
    // 2. num_inference_steps (approximately) evenly spaced indices into it.
    const indices = linspace(0, origin.length, numInferenceSteps, false).map(Math.floor);
    this.#timesteps = indices.map((i) => origin[i]!);
    this.#stepIndex = null;
  }

  /** LCM does not scale the UNet's input. */
  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, noise: NormalSource, out?: Float32Array): Float32Array {
    if (this.#timesteps.length === 0) {
      throw new Error("Number of inference steps is 'None', you need to run 'set_timesteps' after creating the scheduler");
    }
    const prevSample = outputFor(sample, out);
    const index = (this.#stepIndex ??= indexForTimestep('LCMScheduler', this.#timesteps, timestep));

    // 1. get previous step value
    const prevTimestep = index + 1 < this.#timesteps.length ? this.#timesteps[index + 1]! : timestep;

    // 2. compute alphas, betas
    const alphaProdT = alphaCumprodAt('LCMScheduler', this.#alphasCumprod, timestep);
    const alphaProdTPrev =
      prevTimestep >= 0 ? alphaCumprodAt('LCMScheduler', this.#alphasCumprod, prevTimestep) : this.#finalAlphaCumprod;
    const sqrtAlphaT = f32(Math.sqrt(alphaProdT));
    const sqrtBetaT = f32(Math.sqrt(f32(1 - alphaProdT)));

    // 3. boundary-condition scalings c_skip(t), c_out(t) with t scaled by timestep_scaling
    const scaled = f32(timestep * f32(this.config.timestep_scaling));
    const scaledSqPlus = f32(f32(scaled * scaled) + SIGMA_DATA ** 2);
    const cSkip = f32(SIGMA_DATA ** 2 / scaledSqPlus);
    const cOut = f32(scaled / f32(Math.sqrt(scaledSqPlus)));

    // 7. multistep inference re-noises to the next timestep, z ~ N(0, I); never after the last step
    const renoise = index !== this.#timesteps.length - 1;
    let z: Float32Array | undefined;
    if (renoise) {
      if (this.#noise?.length !== sample.length) this.#noise = new Float32Array(sample.length);
      z = noise.randn(sample.length, this.#noise);
    }
    const sqrtAlphaPrev = f32(Math.sqrt(alphaProdTPrev));
    const sqrtBetaPrev = f32(Math.sqrt(f32(1 - alphaProdTPrev)));
    const { prediction_type: prediction, clip_sample: clip, clip_sample_range: range } = this.config;

    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      // 4. predicted original sample x_0 from the model's parameterization
      let predOriginal: number;
      if (prediction === 'epsilon') predOriginal = f32(f32(x - f32(sqrtBetaT * m)) / sqrtAlphaT);
      else if (prediction === 'sample') predOriginal = m;
      else predOriginal = f32(f32(sqrtAlphaT * x) - f32(sqrtBetaT * m));
      // 5. clip "predicted x_0"
      if (clip) predOriginal = f32(Math.min(Math.max(predOriginal, -range), range));
      // 6. denoise with the boundary conditions: f_θ(x, t) = c_skip(t) x + c_out(t) x_0
      const denoised = f32(f32(cOut * predOriginal) + f32(cSkip * x));
      prevSample[i] = z === undefined ? denoised : f32(f32(sqrtAlphaPrev * denoised) + f32(sqrtBetaPrev * z[i]!));
    }
    this.#stepIndex = index + 1;
    return prevSample;
  }
}
