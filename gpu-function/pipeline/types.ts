// Plain data types shared by the pipeline's parts (tokenizer, noise, schedulers, loop).
// Nothing here imports onnxruntime: tensors cross module boundaries as typed arrays plus dims.
/**
 * Milliseconds a batch spent per stage, reported in `Server-Timing` and `sd_stage_seconds` (with the
 * request's own `queue` and `png` times, which the service measures: a picture's PNG is encoded after
 * its batch, off the GPU's critical path).
 */
export interface StageTimings {
  tokenize: number;
  textEncoder: number;
  denoise: number;
  /** The VAE decoder call and turning its output into RGB8 pixels. */
  vae: number;
  /**
   * Parts of `denoise`, summed over all steps (divide by the step count for a per-step figure): the
   * UNet calls, and the scheduler's own arithmetic (`scale_model_input` and `step`). The rest of
   * `denoise` is preparing latents, assembling the UNet's input and guidance. For the bench; the
   * service's Server-Timing and metrics report the four stages above.
   */
  unet: number;
  scheduler: number;
}

/** One picture as the pipeline makes it: pixels, not yet a PNG (the service encodes it, see encodePngAsync). */
export interface GeneratedImage {
  /** Raw RGB8 pixels, row-major, width × height × 3. */
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  /** Stage times of the batch this image ran in (shared by every image of the batch). */
  readonly timings: StageTimings;
}

/**
 * The denoising loop's hooks: what the caller of `generate(batch, hooks)` is asked and told while a batch
 * runs. They are how abandoned work stops (a request nobody waits for leaves its batch; a batch nobody
 * wants stops within one step) and how progress is reported, whatever the pipeline (SD 1.x, SDXL).
 */
export interface GenerationHooks {
  /**
   * Asked before the text encoder, before each denoising step and before the VAE: whether someone still
   * waits for request `index` of the batch. Once false for a request it stays out: its rows leave the
   * UNet's batch, and its place in the result is `undefined`. When no request is wanted, `generate`
   * resolves at once, every place `undefined`. Must answer synchronously (the loop does not yield to the
   * event loop between steps on every runtime). @default every request is wanted to the end
   */
  readonly isWanted?: (index: number) => boolean;
  /** Told after each denoising step, with the requests (batch indices) that took part in it. */
  readonly onStep?: (progress: StepProgress) => void;
}

export interface StepProgress {
  /** Denoising steps done, 1 … steps. */
  readonly step: number;
  /**
   * UNet evaluations the batch makes in all: the scheduler's timesteps, which is the `steps` asked for
   * except for PNDM, whose PLMS warm-up evaluates one timestep twice (diffusers' progress bar counts the same).
   */
  readonly steps: number;
  /** Indices in the batch of the requests still in it, ascending. */
  readonly requests: readonly number[];
}

/** One request's progress: `step` of `steps` done (StepProgress without the batch's membership). */
export type RequestProgress = Pick<StepProgress, 'step' | 'steps'>;

/** One place per request of the batch, in order: its image, or `undefined` when it left unwanted. */
export type BatchImages = (GeneratedImage | undefined)[];

/** A source of standard-normal float32 draws, consumed in order (numpy's RandomState.randn). */
export interface NormalSource {
  /** The next `count` draws, written into `out` when given (the schedulers pass a buffer they reuse). */
  randn(count: number, out?: Float32Array): Float32Array;
}
