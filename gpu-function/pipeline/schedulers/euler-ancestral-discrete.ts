// EulerAncestralDiscreteScheduler: ancestral sampling with Euler steps (k-diffusion's
// sample_euler_ancestral; Karras et al. 2022, https://arxiv.org/abs/2206.00364), ported from
// diffusers/schedulers/scheduling_euler_ancestral_discrete.py.
//
// Noise: diffusers draws it with randn_tensor(generator=...), and the ONNX pipeline passes no
// generator, so there it comes from torch's global RNG. Here it comes from the request's own
// RandomState (`noise`), continuing after the initial latents: one randn(len(sample)) per step,
// the last step included, as diffusers draws it. Same seed, same picture; not torch's draws.
import { z } from 'zod';
import type { NormalSource } from '../types';
import { noiseSchedule } from './beta-schedule';
import { betaScheduleFields, DDPM_BETAS, parseSchedulerConfig, requireSetting, setting } from './config';
import { eulerTimesteps, scaleBySigma, zeroSnrSafe } from './euler-discrete';
import { outputFor, type RawSchedulerConfig, type Scheduler } from './scheduler';
import { eulerInitNoiseSigma, indexForTimestep, inferenceSigmas, trainingSigmas } from './sigmas';
import { assertStepCount } from './spacing';

const f32 = Math.fround;

export const eulerAncestralDiscreteConfigSchema = z.object({
  ...betaScheduleFields(DDPM_BETAS),
  prediction_type: setting(z.string(), 'epsilon'),
  timestep_spacing: setting(z.string(), 'linspace'),
  steps_offset: setting(z.int(), 0),
  rescale_betas_zero_snr: setting(z.boolean(), false),
});
export type EulerAncestralDiscreteConfig = z.output<typeof eulerAncestralDiscreteConfigSchema>;

export class EulerAncestralDiscreteScheduler implements Scheduler {
  readonly config: Readonly<EulerAncestralDiscreteConfig>;
  readonly #trainingSigmas: Float32Array;
  #sigmas: Float32Array;
  #timesteps: number[] = [];
  #stepIndex: number | null = null;
  /** Where each step's fresh noise is drawn (one latent's worth, reused). */
  #noise: Float32Array | undefined;

  constructor(config: RawSchedulerConfig) {
    const name = 'EulerAncestralDiscreteScheduler';
    this.config = parseSchedulerConfig(name, eulerAncestralDiscreteConfigSchema, config);
    // diffusers raises NotImplementedError for prediction_type "sample" here.
    requireSetting(name, 'prediction_type', this.config.prediction_type, ['epsilon', 'v_prediction']);
    const { rescale_betas_zero_snr: rescale } = this.config;
    const alphasCumprod = zeroSnrSafe(noiseSchedule(name, this.config, rescale).alphasCumprod, rescale);
    this.#trainingSigmas = trainingSigmas(alphasCumprod);
    this.#sigmas = Float32Array.from([...this.#trainingSigmas].reverse().concat(0));
  }

  get initNoiseSigma(): number {
    return eulerInitNoiseSigma(this.#sigmas, this.config.timestep_spacing);
  }

  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  /** σ_i for each inference timestep, then 0. */
  get sigmas(): Float32Array {
    return this.#sigmas.slice();
  }

  setTimesteps(numInferenceSteps: number): void {
    const name = 'EulerAncestralDiscreteScheduler';
    const { num_train_timesteps: trainSteps, timestep_spacing: spacing, steps_offset: offset } = this.config;
    assertStepCount(name, numInferenceSteps, trainSteps);
    this.#timesteps = eulerTimesteps(name, spacing, trainSteps, numInferenceSteps, offset);
    this.#sigmas = inferenceSigmas(this.#timesteps, this.#trainingSigmas, 0);
    this.#stepIndex = null;
  }

  /** Scales the UNet input by 1/√(σ² + 1) "to match the Euler algorithm". */
  scaleModelInput(sample: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    const sigma = this.#sigmas[this.#initStepIndex(timestep)]!;
    return scaleBySigma(sample, sigma, outputFor(sample, out));
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, noise: NormalSource, out?: Float32Array): Float32Array {
    const prevSample = outputFor(sample, out);
    const index = this.#initStepIndex(timestep);
    const sigma = this.#sigmas[index]!;
    // v-prediction: x_0 = model_output · (−σ/√(σ²+1)) + sample/(σ²+1)
    const sigmaSqPlus1 = f32(f32(sigma * sigma) + 1);
    const cOut = f32(-sigma / f32(Math.sqrt(sigmaSqPlus1)));
    const epsilonPrediction = this.config.prediction_type === 'epsilon';

    // 2. split the step to σ_to into a deterministic part down to σ_down and fresh noise of σ_up:
    //    σ_up = √(σ_to² (σ_from² − σ_to²) / σ_from²), σ_down = √(σ_to² − σ_up²)
    const sigmaFrom = sigma;
    const sigmaTo = this.#sigmas[index + 1]!;
    const fromSq = f32(sigmaFrom * sigmaFrom);
    const toSq = f32(sigmaTo * sigmaTo);
    const sigmaUp = f32(Math.sqrt(f32(f32(toSq * f32(fromSq - toSq)) / fromSq)));
    const sigmaDown = f32(Math.sqrt(f32(toSq - f32(sigmaUp * sigmaUp))));
    const dt = f32(sigmaDown - sigma);
    if (this.#noise?.length !== sample.length) this.#noise = new Float32Array(sample.length);
    const eps = noise.randn(sample.length, this.#noise);

    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      // 1. compute predicted original sample (x_0) from sigma-scaled predicted noise
      const predOriginal = epsilonPrediction ? f32(x - f32(sigma * m)) : f32(f32(m * cOut) + f32(x / sigmaSqPlus1));
      // 3. Euler step to σ_down along the ODE derivative d = (x − x_0)/σ
      const derivative = f32(f32(x - predOriginal) / sigma);
      const deterministic = f32(x + f32(derivative * dt));
      // 4. add noise z ~ N(0, I) scaled by σ_up
      prevSample[i] = f32(deterministic + f32(eps[i]! * sigmaUp));
    }
    this.#stepIndex = index + 1;
    return prevSample;
  }

  #initStepIndex(timestep: number): number {
    this.#stepIndex ??= indexForTimestep('EulerAncestralDiscreteScheduler', this.#timesteps, timestep);
    return this.#stepIndex;
  }
}
