// From a `POST /v1/generate` body that passed the wire contract to the request the pipeline runs:
// the model's limits checked (each failure names its field, for a 400), the scheduler and step count
// tried on the model's scheduler config (so an impossible pair, e.g. `lcm` with more steps than its
// distillation schedule, is the client's 400 and never fails a whole batch), then every missing field
// filled with the model's defaults — diffusers' `__call__` defaults unless configured otherwise.
import {
  type GenerateRequest,
  limitProblems,
  type ModelDefaults,
  type ModelInfo,
  type ModelLimits,
  type ParamError,
  type ResolvedGeneration,
  type SchedulerName,
} from '../../contract';
import { createScheduler, type RawSchedulerConfig } from '../pipeline/schedulers';

export interface ModelIdentity {
  readonly id: string;
  readonly revision: string;
  /** `<id>@<revision>`. */
  readonly model: string;
}

export class GenerationParams {
  /** With the scheduler decided: the configured one, else the model's own. */
  readonly defaults: ModelDefaults;
  readonly limits: ModelLimits;
  readonly #schedulerConfig: RawSchedulerConfig;
  /** `scheduler:steps` → why that pair cannot run ('' when it can). */
  readonly #scheduleChecks = new Map<string, string>();

  constructor(defaults: ModelDefaults, limits: ModelLimits, schedulerConfig: RawSchedulerConfig) {
    this.defaults = defaults;
    this.limits = limits;
    this.#schedulerConfig = schedulerConfig;
    const problem = this.#scheduleProblem(defaults.scheduler, defaults.steps);
    if (problem !== '') throw new RangeError(`The default scheduler and steps cannot run: ${problem}`);
  }

  /** Problems of a contract-valid request against this model's limits; empty when it can run. */
  problemsOf(request: GenerateRequest): ParamError[] {
    const problems = limitProblems(request, this.limits, this.defaults);
    if (problems.length === 0) {
      const scheduler = request.scheduler ?? this.defaults.scheduler;
      const problem = this.#scheduleProblem(scheduler, request.steps ?? this.defaults.steps);
      if (problem !== '') problems.push({ param: request.steps === undefined ? 'scheduler' : 'steps', message: problem });
    }
    return problems;
  }

  /** The request with every default filled in (call after `problemsOf` found nothing). */
  resolve(request: GenerateRequest): ResolvedGeneration {
    return {
      prompt: request.prompt,
      negative_prompt: request.negative_prompt ?? '',
      seed: request.seed,
      steps: request.steps ?? this.defaults.steps,
      guidance: request.guidance ?? this.defaults.guidance,
      width: request.width ?? this.defaults.width,
      height: request.height ?? this.defaults.height,
      scheduler: request.scheduler ?? this.defaults.scheduler,
    };
  }

  /** `GET /v1/model`. */
  modelInfo(identity: ModelIdentity): ModelInfo {
    const { model, id, revision } = identity;
    return { model, id, revision, defaults: { ...this.defaults }, limits: { ...this.limits } };
  }

  /** Builds the scheduler and its timesteps once per pair, as the pipeline will. */
  #scheduleProblem(scheduler: SchedulerName, steps: number): string {
    const key = `${scheduler}:${steps}`;
    let problem = this.#scheduleChecks.get(key);
    if (problem === undefined) {
      try {
        createScheduler(scheduler, this.#schedulerConfig).setTimesteps(steps);
        problem = '';
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      this.#scheduleChecks.set(key, problem);
    }
    return problem;
  }
}
