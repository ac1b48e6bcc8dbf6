// DPMSolverMultistepScheduler as DPM-Solver++(2M): the multistep second-order solver of Lu et al.
// 2022, "DPM-Solver++" (https://arxiv.org/abs/2211.01095), in data prediction, ported from
// diffusers/schedulers/scheduling_dpmsolver_multistep.py for algorithm_type "dpmsolver++",
// solver_order 1 or 2 and solver_type "midpoint" or "heun".
import { z } from 'zod';
import type { NormalSource } from '../types';
import { noiseSchedule } from './beta-schedule';
import { betaScheduleFields, DDPM_BETAS, parseSchedulerConfig, requireSetting, setting } from './config';
import { zeroSnrSafe } from './euler-discrete';
import { arange, linspace, roundHalfEven } from './numpy-compat';
import { outputFor, type RawSchedulerConfig, type Scheduler } from './scheduler';
import { inferenceSigmas, trainingSigmas } from './sigmas';
import { assertStepCount, unknownSpacing } from './spacing';

const f32 = Math.fround;

export const dpmSolverMultistepConfigSchema = z.object({
  ...betaScheduleFields(DDPM_BETAS),
  solver_order: setting(z.int(), 2),
  prediction_type: setting(z.string(), 'epsilon'),
  thresholding: setting(z.boolean(), false),
  algorithm_type: setting(z.string(), 'dpmsolver++'),
  solver_type: setting(z.string(), 'midpoint'),
  lower_order_final: setting(z.boolean(), true),
  euler_at_final: setting(z.boolean(), false),
  use_karras_sigmas: setting(z.boolean(), false),
  use_exponential_sigmas: setting(z.boolean(), false),
  use_beta_sigmas: setting(z.boolean(), false),
  use_lu_lambdas: setting(z.boolean(), false),
  use_flow_sigmas: setting(z.boolean(), false),
  final_sigmas_type: setting(z.string(), 'zero'),
  // −∞ by default, which zod's z.number() (finite only) would reject.
  lambda_min_clipped: setting(
    z.custom<number>((v) => typeof v === 'number' && !Number.isNaN(v), 'expected a number'),
    -Infinity,
  ),
  variance_type: z
    .string()
    .nullish()
    .transform((value) => value ?? null),
  timestep_spacing: setting(z.string(), 'linspace'),
  steps_offset: setting(z.int(), 0),
  rescale_betas_zero_snr: setting(z.boolean(), false),
});
export type DPMSolverMultistepConfig = z.output<typeof dpmSolverMultistepConfigSchema>;

/** α_t, σ_t and λ_t = log α_t − log σ_t of a k-diffusion σ (diffusers' _sigma_to_alpha_sigma_t). */
interface NoiseLevel {
  readonly alpha: number;
  readonly sigma: number;
  readonly lambda: number;
}

export class DPMSolverMultistepScheduler implements Scheduler {
  readonly config: Readonly<DPMSolverMultistepConfig>;
  readonly initNoiseSigma = 1;
  readonly #alphasCumprod: Float32Array;
  readonly #trainingSigmas: Float32Array;
  #sigmas: Float32Array = new Float32Array(0);
  #timesteps: number[] = [];
  #stepIndex: number | null = null;
  /**
   * The last `solver_order` converted model outputs (x_0 predictions), oldest first, in buffers of the
   * scheduler's own (the caller reuses its arrays): the newest takes the buffer of the one it pushes out.
   */
  #modelOutputs: (Float32Array | null)[] = [];
  #lowerOrderNums = 0;

  constructor(config: RawSchedulerConfig) {
    const name = 'DPMSolverMultistepScheduler';
    this.config = parseSchedulerConfig(name, dpmSolverMultistepConfigSchema, config);
    const c = this.config;
    requireSetting(name, 'algorithm_type', c.algorithm_type, ['dpmsolver++']);
    requireSetting(name, 'solver_order', c.solver_order, [1, 2]);
    requireSetting(name, 'solver_type', c.solver_type, ['midpoint', 'heun']);
    requireSetting(name, 'prediction_type', c.prediction_type, ['epsilon', 'sample', 'v_prediction']);
    requireSetting(name, 'final_sigmas_type', c.final_sigmas_type, ['zero', 'sigma_min']);
    requireSetting(name, 'variance_type', c.variance_type, [null]);
    const unsupported = [
      'thresholding',
      'use_karras_sigmas',
      'use_exponential_sigmas',
      'use_beta_sigmas',
      'use_lu_lambdas',
      'use_flow_sigmas',
    ] as const;
    for (const key of unsupported) {
      requireSetting(name, key, c[key], [false]);
    }
    const { alphasCumprod } = noiseSchedule(name, c, c.rescale_betas_zero_snr);
    this.#alphasCumprod = zeroSnrSafe(alphasCumprod, c.rescale_betas_zero_snr);
    this.#trainingSigmas = trainingSigmas(this.#alphasCumprod);
  }

  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  /** σ_i for each inference timestep, then the final σ (0, or σ_min with final_sigmas_type "sigma_min"). */
  get sigmas(): Float32Array {
    return this.#sigmas.slice();
  }

  setTimesteps(numInferenceSteps: number): void {
    const name = 'DPMSolverMultistepScheduler';
    const { num_train_timesteps: trainSteps, timestep_spacing: spacing } = this.config;
    assertStepCount(name, numInferenceSteps, trainSteps);
    // Clipping the minimum of all λ(t) for numerical stability ("critical for cosine
    // (squaredcos_cap_v2) noise schedule"): the last usable training timestep.
    const lastTimestep = trainSteps - this.#clippedIndex();

    let timesteps: number[];
    if (spacing === 'linspace') {
      timesteps = linspace(0, lastTimestep - 1, numInferenceSteps + 1)
        .map(roundHalfEven)
        .reverse()
        .slice(0, -1);
    } else if (spacing === 'leading') {
      const stepRatio = Math.floor(lastTimestep / (numInferenceSteps + 1));
      timesteps = Array.from({ length: numInferenceSteps + 1 }, (_, i) => i * stepRatio)
        .reverse()
        .slice(0, -1)
        .map((t) => t + this.config.steps_offset);
    } else if (spacing === 'trailing') {
      const stepRatio = trainSteps / numInferenceSteps;
      timesteps = arange(lastTimestep, 0, -stepRatio).map((t) => roundHalfEven(t) - 1);
    } else {
      throw unknownSpacing(name, spacing);
    }

    const sigmaLast = this.config.final_sigmas_type === 'sigma_min' ? this.#trainingSigmas[0]! : 0;
    this.#timesteps = timesteps;
    this.#sigmas = inferenceSigmas(timesteps, this.#trainingSigmas, sigmaLast);
    this.#modelOutputs = new Array<Float32Array | null>(this.config.solver_order).fill(null);
    this.#lowerOrderNums = 0;
    this.#stepIndex = null;
  }

  /** DPM-Solver does not scale the UNet's input. */
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
    if (this.#timesteps.length === 0) {
      throw new Error("Number of inference steps is 'None', you need to run 'set_timesteps' after creating the scheduler");
    }
    const prevSample = outputFor(sample, out);
    const index = (this.#stepIndex ??= this.#indexForTimestep(timestep));
    const count = this.#timesteps.length;
    const { solver_order: order, lower_order_final: lowerFinal, euler_at_final: eulerAtFinal } = this.config;

    // Improve numerical stability for small numbers of steps: first order on the last step
    // (always when the final σ is 0). diffusers' lower_order_second only limits the third-order
    // solver, which this port does not have.
    const lowerOrderFinal =
      index === count - 1 && (eulerAtFinal || (lowerFinal && count < 15) || this.config.final_sigmas_type === 'zero');

    // The oldest x_0 leaves the history; its buffer takes the newest.
    const recycled = this.#modelOutputs[0]?.length === sample.length ? this.#modelOutputs[0] : null;
    const x0 = this.#convertModelOutput(modelOutput, sample, index, recycled ?? new Float32Array(sample.length));
    for (let i = 0; i < order - 1; i++) this.#modelOutputs[i] = this.#modelOutputs[i + 1]!;
    this.#modelOutputs[order - 1] = x0;

    if (order === 1 || this.#lowerOrderNums < 1 || lowerOrderFinal) {
      this.#firstOrderUpdate(x0, sample, index, prevSample);
    } else {
      this.#secondOrderUpdate(sample, index, prevSample);
    }
    if (this.#lowerOrderNums < order) this.#lowerOrderNums += 1;
    this.#stepIndex = index + 1;
    return prevSample;
  }

  /** DPM-Solver++ solves the ODE in the data prediction x_θ: convert ε or v to x_0, into `x0`. */
  #convertModelOutput(modelOutput: Float32Array, sample: Float32Array, index: number, x0: Float32Array): Float32Array {
    const prediction = this.config.prediction_type;
    if (prediction === 'sample') {
      x0.set(modelOutput);
      return x0;
    }
    const { alpha, sigma } = noiseLevel(this.#sigmas[index]!);
    if (prediction === 'epsilon') {
      // x_0 = (x_t − σ_t ε) / α_t
      for (let i = 0; i < sample.length; i++) x0[i] = f32(f32(sample[i]! - f32(sigma * modelOutput[i]!)) / alpha);
    } else {
      // v-prediction: x_0 = α_t x_t − σ_t v
      for (let i = 0; i < sample.length; i++) x0[i] = f32(f32(alpha * sample[i]!) - f32(sigma * modelOutput[i]!));
    }
    return x0;
  }

  /** First-order DPM-Solver++ (the same step as DDIM): x_t = (σ_t/σ_s) x_s − α_t (e^(−h) − 1) x_θ, h = λ_t − λ_s. */
  #firstOrderUpdate(x0: Float32Array, sample: Float32Array, index: number, out: Float32Array): void {
    const t = noiseLevel(this.#sigmas[index + 1]!);
    const s = noiseLevel(this.#sigmas[index]!);
    const h = f32(t.lambda - s.lambda);
    const ratio = f32(t.sigma / s.sigma);
    const coeff = f32(t.alpha * f32(f32(Math.exp(-h)) - 1));
    for (let i = 0; i < sample.length; i++) out[i] = f32(f32(ratio * sample[i]!) - f32(coeff * x0[i]!));
  }

  /** Multistep DPM-Solver++(2M) (paper Algorithm 2), with the midpoint or Heun correction of D1. */
  #secondOrderUpdate(sample: Float32Array, index: number, out: Float32Array): void {
    const t = noiseLevel(this.#sigmas[index + 1]!);
    const s0 = noiseLevel(this.#sigmas[index]!);
    const s1 = noiseLevel(this.#sigmas[index - 1]!);
    const m0 = this.#modelOutputs[this.#modelOutputs.length - 1]!;
    const m1 = this.#modelOutputs[this.#modelOutputs.length - 2]!;

    const h = f32(t.lambda - s0.lambda);
    const h0 = f32(s0.lambda - s1.lambda);
    const r0 = f32(h0 / h);
    // D0 = m0, D1 = (1/r0)(m0 − m1)
    const invR0 = f32(1 / r0);
    const ratio = f32(t.sigma / s0.sigma);
    const expm1 = f32(f32(Math.exp(-h)) - 1);
    const c0 = f32(t.alpha * expm1);
    if (this.config.solver_type === 'midpoint') {
      // x_t = (σ_t/σ_s0) x − α_t (e^(−h) − 1) D0 − ½ α_t (e^(−h) − 1) D1
      const c1 = f32(0.5 * c0);
      for (let i = 0; i < sample.length; i++) {
        const d1 = f32(invR0 * f32(m0[i]! - m1[i]!));
        out[i] = f32(f32(f32(ratio * sample[i]!) - f32(c0 * m0[i]!)) - f32(c1 * d1));
      }
      return;
    }
    // heun: x_t = (σ_t/σ_s0) x − α_t (e^(−h) − 1) D0 + α_t ((e^(−h) − 1)/h + 1) D1
    const c1 = f32(t.alpha * f32(f32(expm1 / h) + 1));
    for (let i = 0; i < sample.length; i++) {
      const d1 = f32(invR0 * f32(m0[i]! - m1[i]!));
      out[i] = f32(f32(f32(ratio * sample[i]!) - f32(c0 * m0[i]!)) + f32(c1 * d1));
    }
  }

  /**
   * `torch.searchsorted(torch.flip(lambda_t, [0]), lambda_min_clipped)`: how many of the highest
   * timesteps have λ below the clip (0 with the default −∞).
   */
  #clippedIndex(): number {
    const clip = this.config.lambda_min_clipped;
    const ac = this.#alphasCumprod;
    let count = 0;
    for (let t = ac.length - 1; t >= 0; t--) {
      const alphaT = f32(Math.sqrt(ac[t]!));
      const sigmaT = f32(Math.sqrt(f32(1 - ac[t]!)));
      const lambda = f32(f32(Math.log(alphaT)) - f32(Math.log(sigmaT)));
      if (lambda >= clip) break;
      count += 1;
    }
    return count;
  }

  /** The index of `timestep`; the second of two equal ones, or the last step when it is missing. */
  #indexForTimestep(timestep: number): number {
    const first = this.#timesteps.indexOf(timestep);
    if (first === -1) return this.#timesteps.length - 1;
    const second = this.#timesteps.indexOf(timestep, first + 1);
    return second === -1 ? first : second;
  }
}

/** α_t = 1/√(σ² + 1), σ_t = σ α_t, λ_t = log α_t − log σ_t, in float32 like the 0-dim torch tensors. */
function noiseLevel(sigma: number): NoiseLevel {
  const alpha = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  const sigmaT = f32(sigma * alpha);
  return { alpha, sigma: sigmaT, lambda: f32(f32(Math.log(alpha)) - f32(Math.log(sigmaT))) };
}
