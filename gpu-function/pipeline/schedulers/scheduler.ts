// The interface every scheduler port implements, shaped after what diffusers'
// OnnxStableDiffusionPipeline.__call__ uses of a scheduler: set_timesteps, timesteps,
// init_noise_sigma, scale_model_input and step (pipeline_onnx_stable_diffusion.py).
import type { NormalSource } from '../types';

/**
 * One image's scheduler. Stateful like its diffusers class (step index, model-output history),
 * so the loop creates one per request and calls `setTimesteps` before the first step.
 * Samples are the flattened float32 latents of ONE image ([4, h/8, w/8]).
 *
 * Results go into `out` when one is given, so the denoising loop reuses one buffer per image for
 * all steps instead of allocating several arrays per step (issue #12: at 512², the allocating `.map`
 * chains cost more than everything else the CPU does per step). `out` may be the `sample` itself,
 * for an in-place step; every port reads an element's inputs before writing that element, and keeps
 * copies of whatever it remembers across steps (PNDM's and DPM-Solver's history), since the caller
 * overwrites its buffers. Without `out`, a new array is returned, as diffusers returns a new tensor.
 * The arithmetic is the same either way, float32 rounding for rounding.
 */
export interface Scheduler {
  /** The standard deviation of the initial noise; the loop multiplies the latents by it in float32. */
  readonly initNoiseSigma: number;
  /** After setTimesteps: the timesteps the UNet sees, in order (PNDM repeats one; Euler's are fractional, e.g. 957.375). */
  readonly timesteps: readonly number[];
  setTimesteps(numInferenceSteps: number): void;
  /** The UNet's input for this step; schedulers that do not scale return `sample` itself and leave `out` alone. */
  scaleModelInput(sample: Float32Array, timestep: number, out?: Float32Array): Float32Array;
  /**
   * One denoising step, x_t → x_(t−1), returned (in `out` when given). Noise (euler_a, multi-step lcm)
   * is drawn from `noise`, the request's own seeded RandomState.
   */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, noise: NormalSource, out?: Float32Array): Float32Array;
}

/** A parsed `scheduler/scheduler_config.json` (or any object of diffusers config keys). */
export type RawSchedulerConfig = Readonly<Record<string, unknown>>;

/** `out` when given (checked to fit `like`), else a new array of `like`'s length. */
export function outputFor(like: Float32Array, out: Float32Array | undefined): Float32Array {
  if (out === undefined) return new Float32Array(like.length);
  if (out.length !== like.length) throw new RangeError(`out holds ${out.length} values, the sample ${like.length}`);
  return out;
}
