// Scheduler names of the API to configured scheduler instances, as diffusers' from_config builds
// a scheduler class from a model's scheduler/scheduler_config.json, plus what
// OnnxStableDiffusionPipeline.__init__ then forces on every scheduler it is given
// (StableDiffusionXLPipeline forces nothing).
import { SCHEDULER_CLASS_NAMES, SCHEDULER_NAMES, type SchedulerName } from '../../../contract';
import { DDIMScheduler } from './ddim';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral-discrete';
import { EulerDiscreteScheduler } from './euler-discrete';
import { LCMScheduler } from './lcm';
import { PNDMScheduler } from './pndm';
import type { RawSchedulerConfig, Scheduler } from './scheduler';

/**
 * Whose adjustments apply: OnnxStableDiffusionPipeline's (steps_offset 1, clip_sample false) or
 * StableDiffusionXLPipeline's (none: the config as it is).
 */
export type SchedulerRules = 'onnx-stable-diffusion' | 'stable-diffusion-xl';

/**
 * The name of the scheduler class `className` (a `_class_name` of scheduler_config.json), or
 * undefined for a class without a port here (e.g. LMSDiscreteScheduler).
 */
export function schedulerNameForClass(className: string): SchedulerName | undefined {
  return SCHEDULER_NAMES.find((name) => SCHEDULER_CLASS_NAMES[name] === className);
}

/**
 * A fresh scheduler for one image. `name` picks the class, configured from the model's
 * `config` (keys the class knows carry over, unknown keys are ignored, missing keys take the
 * class's defaults); without a name, the model's own class (`_class_name`), configured the same
 * way, so a request without a scheduler gets exactly what naming the model's default would give.
 *
 * `dpmpp_2m` always means DPM-Solver++(2M): algorithm_type "dpmsolver++" and solver_order 2,
 * whatever a DPMSolverMultistepScheduler config says.
 */
export function createScheduler(
  name: SchedulerName | undefined,
  config: RawSchedulerConfig,
  rules: SchedulerRules = 'onnx-stable-diffusion',
): Scheduler {
  const resolved = name ?? defaultSchedulerName(config);
  // OnnxStableDiffusionPipeline.__init__ rewrites outdated configs: steps_offset must be 1 and
  // clip_sample False ("might led to incorrect results in future versions" otherwise).
  const pipelineConfig: RawSchedulerConfig =
    rules === 'onnx-stable-diffusion' ? { ...config, steps_offset: 1, clip_sample: false } : config;
  switch (resolved) {
    case 'pndm':
      return new PNDMScheduler(pipelineConfig);
    case 'ddim':
      return new DDIMScheduler(pipelineConfig);
    case 'euler':
      return new EulerDiscreteScheduler(pipelineConfig);
    case 'euler_a':
      return new EulerAncestralDiscreteScheduler(pipelineConfig);
    case 'dpmpp_2m':
      return new DPMSolverMultistepScheduler({ ...pipelineConfig, algorithm_type: 'dpmsolver++', solver_order: 2 });
    case 'lcm':
      return new LCMScheduler(pipelineConfig);
    default:
      throw new RangeError(
        `Unknown scheduler name ${JSON.stringify(resolved)}; expected one of ${SCHEDULER_NAMES.join(', ')}`,
      );
  }
}

/** The API name of the model's own scheduler class, or a clear error when there is no port of it. */
export function defaultSchedulerName(config: RawSchedulerConfig): SchedulerName {
  const className = config['_class_name'];
  if (typeof className !== 'string') {
    throw new TypeError('scheduler_config.json has no _class_name; name a scheduler explicitly');
  }
  const name = schedulerNameForClass(className);
  if (name === undefined) {
    throw new RangeError(
      `The model's scheduler ${className} has no port here; name one of ${SCHEDULER_NAMES.join(', ')} instead`,
    );
  }
  return name;
}
