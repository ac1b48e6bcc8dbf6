// The interface every scheduler port implements, shaped after what diffusers'
// OnnxStableDiffusionPipeline.__call__ uses of a scheduler: set_timesteps, timesteps,
// init_noise_sigma, scale_model_input and step (pipeline_onnx_stable_diffusion.py).
import type { NormalSource } from '../types';

/**
 * One image's scheduler. Stateful like its diffusers class (step index, model-output history),
 * so the loop creates one per request and calls `setTimesteps` before the first step.
 * Samples are the flattened float32 latents of ONE image ([4, h/8, w/8]); every method returns
 * a new array and leaves its inputs untouched (`scaleModelInput` may return its input as is).
 */
export interface Scheduler {
  /** The standard deviation of the initial noise; the loop multiplies the latents by it in float32. */
  readonly initNoiseSigma: number;
  /** After setTimesteps: the timesteps the UNet sees, in order (PNDM repeats one; Euler's are fractional, e.g. 957.375). */
  readonly timesteps: readonly number[];
  setTimesteps(numInferenceSteps: number): void;
  scaleModelInput(sample: Float32Array, timestep: number): Float32Array;
  /** One denoising step; noise (euler_a, multi-step lcm) is drawn from `noise`, the request's own seeded RandomState. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, noise: NormalSource): Float32Array;
}

/** A parsed `scheduler/scheduler_config.json` (or any object of diffusers config keys). */
export type RawSchedulerConfig = Readonly<Record<string, unknown>>;
