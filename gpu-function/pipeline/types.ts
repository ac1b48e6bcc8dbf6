// Plain data types shared by the pipeline's parts (tokenizer, noise, schedulers, loop, PNG).
// Nothing here imports onnxruntime: tensors cross module boundaries as typed arrays plus dims.
/** Milliseconds spent per stage, reported in `Server-Timing` and `sd_stage_seconds`. */
export interface StageTimings {
  tokenize: number;
  textEncoder: number;
  denoise: number;
  vae: number;
  png: number;
  /**
   * Parts of `denoise`, summed over all steps (divide by the step count for a per-step figure): the
   * UNet calls, and the scheduler's own arithmetic (`scale_model_input` and `step`). The rest of
   * `denoise` is preparing latents, assembling the UNet's input and guidance. For the bench; the
   * service's Server-Timing and metrics report the five stages above.
   */
  unet: number;
  scheduler: number;
}

export interface GeneratedImage {
  readonly png: Uint8Array;
  /** Raw RGB8 pixels, row-major, width × height × 3 (what reference comparisons read). */
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  /** Stage times of the batch this image ran in (shared by every image of the batch). */
  readonly timings: StageTimings;
}

/** A source of standard-normal float32 draws, consumed in order (numpy's RandomState.randn). */
export interface NormalSource {
  /** The next `count` draws, written into `out` when given (the schedulers pass a buffer they reuse). */
  randn(count: number, out?: Float32Array): Float32Array;
}
