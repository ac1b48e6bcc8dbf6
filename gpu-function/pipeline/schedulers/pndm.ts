// PNDMScheduler: pseudo numerical methods for diffusion models (Liu et al. 2022,
// https://arxiv.org/abs/2202.09778), ported from diffusers/schedulers/scheduling_pndm.py.
// Stable Diffusion's configs set skip_prk_steps, which turns it into crowsonkb's PLMS sampler
// (https://github.com/CompVis/latent-diffusion/pull/51); the Runge-Kutta warm-up runs otherwise.
// The paper's formulas (9), (12), (13) and Algorithm 2 are the ones diffusers points to.
import { z } from 'zod';
import type { NormalSource } from '../types';
import { betaScheduleFields, DDPM_BETAS, parseSchedulerConfig, requireSetting, setting } from './config';
import { alphaCumprodAt, noiseSchedule } from './beta-schedule';
import { assertStepCount, unknownSpacing } from './spacing';
import { arange, linspace, roundHalfEven } from './numpy-compat';
import { outputFor, type RawSchedulerConfig, type Scheduler } from './scheduler';
import { float32Kernels } from '../kernels/simd-kernels';

const f32 = Math.fround;

export const pndmConfigSchema = z.object({
  ...betaScheduleFields(DDPM_BETAS),
  skip_prk_steps: setting(z.boolean(), false),
  set_alpha_to_one: setting(z.boolean(), false),
  prediction_type: setting(z.string(), 'epsilon'),
  timestep_spacing: setting(z.string(), 'leading'),
  steps_offset: setting(z.int(), 0),
});
export type PNDMConfig = z.output<typeof pndmConfigSchema>;

export class PNDMScheduler implements Scheduler {
  readonly config: Readonly<PNDMConfig>;
  readonly initNoiseSigma = 1;
  /** "For now we only support F-PNDM, i.e. the runge-kutta method" (order 4). */
  readonly pndmOrder = 4;
  readonly #alphasCumprod: Float32Array;
  readonly #finalAlphaCumprod: number;
  #numInferenceSteps: number | null = null;
  #prkTimesteps: number[] = [];
  #timesteps: number[] = [];
  // Running values: the model outputs e_θ of earlier steps, the RK sum and the sample it started from.
  // They are copies in buffers of the scheduler's own, since the caller reuses its arrays every step.
  #ets: Float32Array[] = [];
  #counter = 0;
  #curModelOutput: Float32Array | null = null;
  #curSample: Float32Array | null = null;
  readonly #buffers = new BufferPool();

  constructor(config: RawSchedulerConfig) {
    this.config = parseSchedulerConfig('PNDMScheduler', pndmConfigSchema, config);
    requireSetting('PNDMScheduler', 'prediction_type', this.config.prediction_type, ['epsilon', 'v_prediction']);
    this.#alphasCumprod = noiseSchedule('PNDMScheduler', this.config).alphasCumprod;
    this.#finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.#alphasCumprod[0]!;
  }

  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  setTimesteps(numInferenceSteps: number): void {
    const { num_train_timesteps: trainSteps, timestep_spacing: spacing } = this.config;
    assertStepCount('PNDMScheduler', numInferenceSteps, trainSteps);
    this.#numInferenceSteps = numInferenceSteps;
    // "linspace", "leading", "trailing": Table 2 of https://arxiv.org/abs/2305.08891.
    let timesteps: number[];
    if (spacing === 'linspace') {
      timesteps = linspace(0, trainSteps - 1, numInferenceSteps).map(roundHalfEven);
    } else if (spacing === 'leading') {
      const stepRatio = Math.floor(trainSteps / numInferenceSteps);
      timesteps = Array.from({ length: numInferenceSteps }, (_, i) => i * stepRatio + this.config.steps_offset);
    } else if (spacing === 'trailing') {
      const stepRatio = trainSteps / numInferenceSteps;
      timesteps = arange(trainSteps, 0, -stepRatio)
        .map(roundHalfEven)
        .reverse()
        .map((t) => t - 1);
    } else {
      throw unknownSpacing('PNDMScheduler', spacing);
    }

    let plmsTimesteps: number[];
    if (this.config.skip_prk_steps) {
      // PLMS: the second-to-last timestep is visited twice (the pseudo-improved Euler start).
      this.#prkTimesteps = [];
      plmsTimesteps = [...timesteps.slice(0, -1), ...timesteps.slice(-2, -1), ...timesteps.slice(-1)].reverse();
    } else {
      // RK warm-up on the last `pndmOrder` timesteps, each with a half step: t, t + δ/2, t + δ/2, t + δ.
      const half = Math.floor(Math.floor(trainSteps / numInferenceSteps) / 2);
      const prk = timesteps.slice(-this.pndmOrder).flatMap((t) => [t, t + half]);
      this.#prkTimesteps = prk
        .slice(0, -1)
        .flatMap((t) => [t, t])
        .slice(1, -1)
        .reverse();
      plmsTimesteps = timesteps.slice(0, -3).reverse();
    }
    this.#timesteps = [...this.#prkTimesteps, ...plmsTimesteps];
    for (const buffer of [...this.#ets, this.#curModelOutput, this.#curSample]) this.#buffers.release(buffer);
    this.#ets = [];
    this.#counter = 0;
    this.#curModelOutput = null;
    this.#curSample = null;
  }

  /** PNDM does not scale the UNet's input. */
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
    const prevSample = outputFor(sample, out);
    if (this.#counter < this.#prkTimesteps.length && !this.config.skip_prk_steps) {
      this.#stepPrk(modelOutput, timestep, sample, prevSample);
    } else {
      this.#stepPlms(modelOutput, timestep, sample, prevSample);
    }
    return prevSample;
  }

  /** Pseudo Runge-Kutta step (F-PRK): four model evaluations per inference step, weights 1/6, 1/3, 1/3, 1/6. */
  #stepPrk(modelOutput: Float32Array, timestep: number, sample: Float32Array, out: Float32Array): void {
    const numInferenceSteps = this.#requireTimesteps();
    const halfStep = Math.floor(Math.floor(this.config.num_train_timesteps / numInferenceSteps) / 2);
    const diffToPrev = this.#counter % 2 ? 0 : halfStep;
    const prevTimestep = timestep - diffToPrev;
    const rkTimestep = this.#prkTimesteps[Math.floor(this.#counter / 4) * 4]!;

    let output = modelOutput;
    const phase = this.#counter % 4;
    if (phase === 0) {
      this.#curModelOutput = this.#accumulate(this.#curModelOutput, 1 / 6, modelOutput);
      this.#ets.push(this.#buffers.copyOf(modelOutput));
      this.#curSample = this.#buffers.copyOf(sample, this.#curSample);
    } else if (phase === 1 || phase === 2) {
      this.#curModelOutput = this.#accumulate(this.#curModelOutput, 1 / 3, modelOutput);
    } else {
      // The last of the four: the weighted sum is the e_θ of this step, and the running sum ends.
      output = this.#accumulate(this.#curModelOutput, 1 / 6, modelOutput);
      this.#curModelOutput = null;
    }
    const curSample = this.#curSample ?? sample;
    this.#getPrevSample(curSample, rkTimestep, prevTimestep, output, out);
    if (output !== modelOutput) this.#buffers.release(output);
    this.#counter += 1;
  }

  /** Pseudo linear multistep step (F-PLMS): one model evaluation, Adams–Bashforth weights over past e_θ. */
  #stepPlms(modelOutput: Float32Array, timestep: number, sample: Float32Array, out: Float32Array): void {
    const numInferenceSteps = this.#requireTimesteps();
    if (!this.config.skip_prk_steps && this.#ets.length < 3) {
      throw new Error(
        "PNDMScheduler can only be run AFTER scheduler has been run in 'prk' mode for at least 12 iterations",
      );
    }
    const ratio = Math.floor(this.config.num_train_timesteps / numInferenceSteps);
    let prevTimestep = timestep - ratio;
    let current = timestep;
    if (this.#counter !== 1) {
      // diffusers keeps every e_θ; only the last four are ever read, so the oldest buffer is reused.
      const oldest = this.#ets.length >= 4 ? this.#ets.shift() : undefined;
      this.#ets.push(this.#buffers.copyOf(modelOutput, oldest));
    } else {
      // The repeated timestep: step from t + δ to t again with the averaged e_θ.
      prevTimestep = timestep;
      current = timestep + ratio;
    }

    const ets = this.#ets;
    const e = (back: number): Float32Array => ets[ets.length - back]!;
    const n = sample.length;
    // The same arithmetic four lanes at a time (kernels/), for the epsilon prediction every SD model uses.
    const kernels = this.config.prediction_type === 'epsilon' ? float32Kernels() : undefined;
    // How many past outputs the step combines: the first step uses its own, the repeated timestep averages
    // two, then the Adams–Bashforth sums take two, three and from then on four.
    const order = ets.length === 1 ? (this.#counter === 0 ? 0 : 1) : Math.min(ets.length, 4);
    let x = sample;
    if (order === 0) this.#curSample = this.#buffers.copyOf(sample, this.#curSample);
    else if (order === 1) x = this.#curSample!;
    if (kernels !== undefined) {
      const k = this.#transferCoefficients(current, prevTimestep);
      if (order === 4) kernels.plms4([e(1), e(2), e(3), e(4)], x, out, { w: f32(1 / 24), ...k });
      else if (order === 0) kernels.plmsEarly(0, [modelOutput], x, out, k);
      else if (order === 1) kernels.plmsEarly(1, [modelOutput, e(1)], x, out, k);
      else kernels.plmsEarly(order as 2 | 3, order === 2 ? [e(1), e(2)] : [e(1), e(2), e(3)], x, out, k);
      this.#afterPlms(x, sample);
      return;
    }
    const eps = this.#buffers.scratch(n);
    if (order === 0) {
      eps.set(modelOutput);
    } else if (order === 1) {
      const e1 = e(1);
      for (let i = 0; i < n; i++) eps[i] = f32(f32(modelOutput[i]! + e1[i]!) / 2);
    } else if (order === 2) {
      const [e1, e2] = [e(1), e(2)];
      for (let i = 0; i < n; i++) eps[i] = f32(f32(f32(3 * e1[i]!) - e2[i]!) / 2);
    } else if (order === 3) {
      const [e1, e2, e3] = [e(1), e(2), e(3)];
      for (let i = 0; i < n; i++) eps[i] = f32(f32(f32(f32(23 * e1[i]!) - f32(16 * e2[i]!)) + f32(5 * e3[i]!)) / 12);
    } else {
      const [e1, e2, e3, e4] = [e(1), e(2), e(3), e(4)];
      const w = f32(1 / 24);
      for (let i = 0; i < n; i++) {
        eps[i] = f32(w * f32(f32(f32(f32(55 * e1[i]!) - f32(59 * e2[i]!)) + f32(37 * e3[i]!)) - f32(9 * e4[i]!)));
      }
    }
    this.#getPrevSample(x, current, prevTimestep, eps, out);
    this.#afterPlms(x, sample);
  }

  /** The step's bookkeeping: the pseudo-improved Euler start is done with the sample it began from. */
  #afterPlms(x: Float32Array, sample: Float32Array): void {
    if (x !== sample) {
      this.#buffers.release(this.#curSample);
      this.#curSample = null;
    }
    this.#counter += 1;
  }

  /**
   * PNDM paper formula (9): the transfer x_t → x_(t−δ) for a noise estimate e_θ, with x_t added to
   * both sides, into `out`. α_t is alphas_cumprod[t] (the paper's ᾱ), α_(t−δ) the previous one.
   */
  #getPrevSample(
    sample: Float32Array,
    timestep: number,
    prevTimestep: number,
    modelOutput: Float32Array,
    out: Float32Array,
  ): void {
    const { sampleCoeff, diff, denom, alphaProdT, betaProdT } = this.#transferCoefficients(timestep, prevTimestep);
    // v = √α_t ε − √(1−α_t) x  ⇒  ε = √α_t v + √(1−α_t) x (Salimans & Ho 2022, section 4).
    const vPrediction = this.config.prediction_type === 'v_prediction';
    const sqrtAlpha = f32(Math.sqrt(alphaProdT));
    const sqrtBeta = f32(Math.sqrt(betaProdT));
    // x_(t−δ) = sample_coeff x_t − (α_(t−δ) − α_t) e_θ / denom
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const eps = vPrediction ? f32(f32(sqrtAlpha * modelOutput[i]!) + f32(sqrtBeta * x)) : modelOutput[i]!;
      out[i] = f32(f32(sampleCoeff * x) - f32(f32(diff * eps) / denom));
    }
  }

  /** The scalars of formula (9) for the step from `timestep` to `prevTimestep`, each rounded as torch's float32 does. */
  #transferCoefficients(timestep: number, prevTimestep: number) {
    const alphaProdT = alphaCumprodAt('PNDMScheduler', this.#alphasCumprod, timestep);
    const alphaProdTPrev =
      prevTimestep >= 0 ? alphaCumprodAt('PNDMScheduler', this.#alphasCumprod, prevTimestep) : this.#finalAlphaCumprod;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    // sample_coeff = (α_(t−δ) / α_t)^(1/2)
    const sampleCoeff = f32(Math.sqrt(f32(alphaProdTPrev / alphaProdT)));
    // e_θ denominator: α_t √(1 − α_(t−δ)) + √((1 − α_t) α_t α_(t−δ))
    const denom = f32(
      f32(alphaProdT * f32(Math.sqrt(betaProdTPrev))) +
        f32(Math.sqrt(f32(f32(alphaProdT * betaProdT) * alphaProdTPrev))),
    );
    const diff = f32(alphaProdTPrev - alphaProdT);
    return { sampleCoeff, diff, denom, alphaProdT, betaProdT };
  }

  /** `running + weight * x` in float32 into the running sum's buffer, where a missing sum is Python's integer 0. */
  #accumulate(running: Float32Array | null, weight: number, x: Float32Array): Float32Array {
    const w = f32(weight);
    const sum = running ?? this.#buffers.take(x.length);
    if (running === null) for (let i = 0; i < x.length; i++) sum[i] = f32(0 + f32(w * x[i]!));
    else for (let i = 0; i < x.length; i++) sum[i] = f32(running[i]! + f32(w * x[i]!));
    return sum;
  }

  #requireTimesteps(): number {
    if (this.#numInferenceSteps === null) {
      throw new Error(
        "Number of inference steps is 'None', you need to run 'set_timesteps' after creating the scheduler",
      );
    }
    return this.#numInferenceSteps;
  }
}

/** Latent-sized buffers a scheduler keeps across steps, reused instead of reallocated. */
class BufferPool {
  readonly #free: Float32Array[] = [];
  #scratch: Float32Array | undefined;

  take(length: number): Float32Array {
    const index = this.#free.findIndex((buffer) => buffer.length === length);
    return index === -1 ? new Float32Array(length) : this.#free.splice(index, 1)[0]!;
  }

  /** A copy of `source`, in `into` when it fits, else in a pooled buffer. */
  copyOf(source: Float32Array, into?: Float32Array | null): Float32Array {
    const target = into?.length === source.length ? into : this.take(source.length);
    target.set(source);
    return target;
  }

  release(buffer: Float32Array | null | undefined): void {
    if (buffer != null) this.#free.push(buffer);
  }

  /** One buffer for values used within a single step. */
  scratch(length: number): Float32Array {
    if (this.#scratch?.length !== length) this.#scratch = new Float32Array(length);
    return this.#scratch;
  }
}
