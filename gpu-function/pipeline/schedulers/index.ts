// The schedulers' public surface: the factory the denoising loop calls, the interface it gets
// back, and the classes themselves (for tests and tools that configure one directly).
export { createScheduler, defaultSchedulerName, schedulerNameForClass, type SchedulerRules } from './create-scheduler';
export type { RawSchedulerConfig, Scheduler } from './scheduler';
export { DDIMScheduler } from './ddim';
export { DPMSolverMultistepScheduler } from './dpm-solver-multistep';
export { EulerAncestralDiscreteScheduler } from './euler-ancestral-discrete';
export { EulerDiscreteScheduler } from './euler-discrete';
export { LCMScheduler } from './lcm';
export { PNDMScheduler } from './pndm';
