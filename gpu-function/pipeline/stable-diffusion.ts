// Text to image, as diffusers' OnnxStableDiffusionPipeline.__call__ does it
// (diffusers/pipelines/stable_diffusion/pipeline_onnx_stable_diffusion.py), for a batch of
// compatible requests at once. Each request keeps its own seed, noise generator, scheduler state
// and guidance scale, so a request gets the same pixels whether it runs alone or in a batch. The loop
// takes hooks (GenerationHooks in types.ts): before each step it asks which requests are still wanted
// and drops the others (a batch nobody wants stops there), after each step it reports progress.
// The one denoising loop for every model family: SDXL (StableDiffusionXLPipeline.__call__) runs
// the same steps and differs only in its text conditioning (the TextConditioner: more UNet inputs),
// in leaving the scheduler config as it is (`schedulerRules`) and in how latents are unscaled for the
// VAE (`latentUnscaling`).
import { assertBatchCompatible } from './batch-compatibility';
import { BatchMembers, wantedIndices } from './batch-members';
import { applyGuidance, buildUnetRows, type UnetRow } from './classifier-free-guidance';
import { FloatFeed } from './float-feed';
import { decoderOutputToRgb8 } from './image/to-rgb8';
import { feedFrom, inputTensor, type HostTensor, type ModelSession } from './onnx-runtime';
import { RandomState } from './random/numpy-random-state';
import { createScheduler, type RawSchedulerConfig, type Scheduler, type SchedulerRules } from './schedulers';
import type { TextConditioner } from './text-conditioning';
import type { BatchImages, GenerationHooks, StageTimings } from './types';
import type { ResolvedGeneration } from '../../contract';

/** The VAE's latent channels and spatial downsampling (the same for SD 1.x and 2.x). */
export const LATENT_CHANNELS = 4;
export const VAE_DOWNSAMPLING = 8;

export interface StableDiffusionComponents {
  /** Prompts → the UNet's text inputs (ClipTextConditioner for SD 1.x/2.x, SdxlTextConditioner). */
  readonly conditioner: TextConditioner;
  readonly unet: ModelSession;
  readonly vaeDecoder: ModelSession;
  /** The model's scheduler/scheduler_config.json, parsed. */
  readonly schedulerConfig: RawSchedulerConfig;
  /** Which pipeline's adjustments the scheduler config gets. @default 'onnx-stable-diffusion' */
  readonly schedulerRules?: SchedulerRules;
  readonly vaeScalingFactor: number;
  /**
   * How latents are unscaled before the VAE: OnnxStableDiffusionPipeline writes `1 / 0.18215 * latents`
   * ('reciprocal'), StableDiffusionXLPipeline `latents / scaling_factor` ('divide'). @default 'reciprocal'
   */
  readonly latentUnscaling?: 'reciprocal' | 'divide';
}

/** UNet input names as diffusers' ONNX exporter writes them (convert_stable_diffusion_checkpoint_to_onnx.py). */
const UNET_INPUT = Object.freeze({
  sample: 'sample',
  timestep: 'timestep',
});

/**
 * One image's state while its batch denoises. Every array is allocated once per batch and reused by
 * every step (issue #12): the latents are stepped in place, the noise prediction is rewritten by guidance.
 */
interface ImageInProgress {
  readonly request: ResolvedGeneration;
  readonly noise: RandomState;
  readonly scheduler: Scheduler;
  readonly latents: Float32Array;
  readonly noisePrediction: Float32Array;
}

export class StableDiffusionPipeline {
  readonly #parts: StableDiffusionComponents;

  constructor(parts: StableDiffusionComponents) {
    for (const name of [...Object.values(UNET_INPUT), ...parts.conditioner.unetInputs]) {
      if (parts.unet.inputs[name] === undefined) {
        throw new TypeError(`${parts.unet.path} has no input '${name}' (it takes ${parts.unet.inputNames.join(', ')})`);
      }
    }
    this.#parts = parts;
  }

  /**
   * Runs compatible requests (same size, steps and scheduler) as one batch; one place per request, in
   * order: its image, or `undefined` when `hooks.isWanted` let it go before it was finished.
   */
  async generate(batch: readonly ResolvedGeneration[], hooks: GenerationHooks = {}): Promise<BatchImages> {
    assertBatchCompatible(batch);
    const isWanted = hooks.isWanted ?? (() => true);
    const results: BatchImages = batch.map(() => undefined);
    const wanted = wantedIndices(batch, isWanted);
    if (wanted.length === 0) return results;
    const { width, height } = batch[0]!;
    const latentDims = [LATENT_CHANNELS, height / VAE_DOWNSAMPLING, width / VAE_DOWNSAMPLING] as const;
    const latentSize = latentDims[0] * latentDims[1] * latentDims[2];
    const timings: StageTimings = { tokenize: 0, textEncoder: 0, denoise: 0, vae: 0, unet: 0, scheduler: 0 };

    // 1. Encode the prompts: the prompt's embeddings, and for every request whose guidance scale
    //    turns classifier-free guidance on, the negative prompt's (or "") before it.
    const requests = wanted.map((index) => batch[index]!);
    const conditioning = await this.#parts.conditioner.condition(requests, buildUnetRows(requests), timings);
    const textInputs = Object.keys(conditioning);

    // 2. Prepare latents and timesteps: RandomState(seed).randn(1, 4, h/8, w/8) as float32 per
    //    request, times its scheduler's init_noise_sigma.
    let started = performance.now();
    const images = requests.map((request) => this.#prepareImage(request, latentSize));
    const members = new BatchMembers(batch, wanted, images, textInputs.map((name) => conditioning[name]!));

    // 3. Denoise. Every request of the batch walks the same timesteps (same scheduler and steps).
    //    Before each step, requests nobody waits for any more leave the batch (the UNet's inputs shrink
    //    to the rows left); when none is left, stop. The text inputs are fed unchanged from step to step
    //    in the dtype the UNet declares: an fp16 encoder's output reaches an fp16 UNet as it came
    //    (feedFrom), converted once otherwise.
    const unet = this.#parts.unet;
    const scaled = new Float32Array(latentSize);
    let feeds: { readonly sample: FloatFeed; readonly text: Readonly<Record<string, HostTensor>> } | undefined;
    const timesteps = images[0]!.scheduler.timesteps;
    for (const [i, t] of timesteps.entries()) {
      const rowsBefore = members.rows.length;
      if (!members.keepWanted(isWanted)) return results;
      if (feeds === undefined || members.rows.length !== rowsBefore) {
        const text: Record<string, HostTensor> = {};
        textInputs.forEach((name, k) => (text[name] = feedFrom(unet, name, members.perRow[k]!)));
        feeds = { sample: new FloatFeed(unet, UNET_INPUT.sample, [members.rows.length, ...latentDims]), text };
      }
      await this.#predictNoise(members.states, members.rows, t, { ...feeds, scaled }, latentSize, timings);
      const stepping = performance.now();
      for (const image of members.states) {
        image.scheduler.step(image.noisePrediction, t, image.latents, image.noise, image.latents);
      }
      timings.scheduler += performance.now() - stepping;
      hooks.onStep?.({ step: i + 1, steps: timesteps.length, requests: members.indices });
    }
    timings.denoise = performance.now() - started;
    if (!members.keepWanted(isWanted)) return results;

    // 4. Decode the latents, divided by the VAE's scaling factor, all images in one call.
    started = performance.now();
    const decoded = await this.#decode(members.states, latentDims, latentSize);

    // 5. Post-process as diffusers: clip(x / 2 + 0.5, 0, 1), round(x * 255) half-to-even, as RGB8 pixels.
    //    The PNG is not made here: the batch returns as soon as its pixels are ready, and the service
    //    encodes each picture while the next batch runs (issue #12: nothing but the GPU on its critical path).
    //    A float16 VAE that overflows (SDXL's original VAE does; its config asks for fp32 with
    //    force_upcast) decodes to NaN: say so rather than return a black picture.
    const pictures = decoderOutputToRgb8(decoded, members.states.length, width, height);
    if (pictures === undefined) {
      throw new Error(
        `${this.#parts.vaeDecoder.path} decoded to NaN (float16 overflow?); ` +
          'use an fp32 VAE decoder or an fp16-safe one such as sdxl-vae-fp16-fix',
      );
    }
    members.states.forEach((image, i) => {
      results[members.indices[i]!] = { pixels: pictures[i]!, width, height, seed: image.request.seed, timings };
    });
    timings.vae = performance.now() - started;
    return results;
  }

  #prepareImage(request: ResolvedGeneration, latentSize: number): ImageInProgress {
    const noise = new RandomState(request.seed);
    const scheduler = createScheduler(request.scheduler, this.#parts.schedulerConfig, this.#parts.schedulerRules);
    scheduler.setTimesteps(request.steps);
    const latents = noise.randn(latentSize);
    // A float32 tensor times a Python float multiplies in float32 (the scalar rounded first).
    const sigma = Math.fround(scheduler.initNoiseSigma);
    if (sigma !== 1) for (let i = 0; i < latents.length; i++) latents[i] = Math.fround(latents[i]! * sigma);
    return { request, noise, scheduler, latents, noisePrediction: new Float32Array(latentSize) };
  }

  /** One UNet call for every row of the batch, then guidance into each image's noise prediction. */
  async #predictNoise(
    images: readonly ImageInProgress[],
    rows: readonly UnetRow[],
    t: number,
    feeds: {
      readonly sample: FloatFeed;
      readonly scaled: Float32Array;
      /** The conditioner's inputs (`encoder_hidden_states`, and SDXL's `text_embeds`, `time_ids`). */
      readonly text: Readonly<Record<string, HostTensor>>;
    },
    latentSize: number,
    timings: StageTimings,
  ): Promise<void> {
    const unet = this.#parts.unet;
    // Each image's scaled latents go into its rows of the UNet's input once: a guided image's
    // unconditional and conditional rows see the same sample, so the second row is a copy of the first.
    let row = 0;
    for (const image of images) {
      const started = performance.now();
      const modelInput = image.scheduler.scaleModelInput(image.latents, t, feeds.scaled);
      timings.scheduler += performance.now() - started;
      feeds.sample.write(modelInput, row * latentSize);
      if (rows[row + 1]?.request === rows[row]!.request) {
        feeds.sample.copy(row * latentSize, (row + 1) * latentSize, latentSize);
        row += 1;
      }
      row += 1;
    }
    // diffusers passes `np.array([t], dtype=timestep_dtype)`: shape [1] whatever the batch (the graph
    // broadcasts it), in the dtype the graph declares; an int64 graph gets the timestep truncated.
    const timestepInfo = unet.inputs[UNET_INPUT.timestep]!;
    const timestep = inputTensor(unet, UNET_INPUT.timestep, [t], timestepInfo.rank === 0 ? [] : [1]);
    const started = performance.now();
    const outputs = await unet.run({
      ...feeds.text,
      [UNET_INPUT.sample]: feeds.sample.tensor,
      [UNET_INPUT.timestep]: timestep,
    });
    timings.unet += performance.now() - started;
    const requests = images.map((image) => image.request);
    applyGuidance(firstOutput(unet, outputs), rows, requests, latentSize, images.map((image) => image.noisePrediction));
  }

  async #decode(images: readonly ImageInProgress[], latentDims: readonly number[], latentSize: number): Promise<HostTensor> {
    // OnnxStableDiffusionPipeline writes `1 / 0.18215 * latents`: the reciprocal in float64, rounded to
    // float32 when it meets the float32 array, then a float32 multiply. StableDiffusionXLPipeline writes
    // `latents / scaling_factor`: a float32 division by the factor rounded to float32.
    const divide = this.#parts.latentUnscaling === 'divide';
    const factor = Math.fround(divide ? this.#parts.vaeScalingFactor : 1 / this.#parts.vaeScalingFactor);
    const vae = this.#parts.vaeDecoder;
    const input = vae.inputNames[0]!;
    const feed = new FloatFeed(vae, input, [images.length, ...latentDims]);
    const scaled = new Float32Array(latentSize);
    for (const [i, image] of images.entries()) {
      const latents = image.latents;
      if (divide) for (let j = 0; j < latentSize; j++) scaled[j] = Math.fround(latents[j]! / factor);
      else for (let j = 0; j < latentSize; j++) scaled[j] = Math.fround(latents[j]! * factor);
      feed.write(scaled, i * latentSize);
    }
    const outputs = await vae.run({ [input]: feed.tensor });
    return firstOutput(vae, outputs);
  }
}

/** The first declared output: what diffusers reads as `model(...)[0]`. */
function firstOutput(session: ModelSession, outputs: Record<string, HostTensor>): HostTensor {
  const name = session.outputNames[0]!;
  const output = outputs[name];
  if (output === undefined) throw new Error(`${session.path} returned no output '${name}'`);
  return output;
}
