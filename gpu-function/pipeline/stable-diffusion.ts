// Text to image, as diffusers' OnnxStableDiffusionPipeline.__call__ does it
// (diffusers/pipelines/stable_diffusion/pipeline_onnx_stable_diffusion.py), for a batch of
// compatible requests at once. Each request keeps its own seed, noise generator, scheduler state
// and guidance scale, so a request gets the same pixels whether it runs alone or in a batch.
import { assertBatchCompatible } from './batch-compatibility';
import { applyGuidance, buildUnetRows, type UnetRow } from './classifier-free-guidance';
import { encodePng } from './image/encode-png';
import { decodedImageToRgb8 } from './image/to-rgb8';
import { inputTensor, readFloat32, type HostTensor, type ModelSession } from './onnx-runtime';
import { RandomState } from './random/numpy-random-state';
import { createScheduler, type RawSchedulerConfig, type Scheduler } from './schedulers';
import { encodeTexts } from './text-embeddings';
import type { ClipTokenizer } from './tokenizer/clip-tokenizer';
import type { GeneratedImage, StageTimings } from './types';
import type { ResolvedGeneration } from '../../contract';

/** The VAE's latent channels and spatial downsampling (the same for SD 1.x and 2.x). */
export const LATENT_CHANNELS = 4;
export const VAE_DOWNSAMPLING = 8;

export interface StableDiffusionComponents {
  readonly tokenizer: ClipTokenizer;
  readonly textEncoder: ModelSession;
  readonly unet: ModelSession;
  readonly vaeDecoder: ModelSession;
  /** The model's scheduler/scheduler_config.json, parsed. */
  readonly schedulerConfig: RawSchedulerConfig;
  readonly vaeScalingFactor: number;
}

/** UNet input names as diffusers' ONNX exporter writes them (convert_stable_diffusion_checkpoint_to_onnx.py). */
const UNET_INPUT = Object.freeze({
  sample: 'sample',
  timestep: 'timestep',
  encoderHiddenStates: 'encoder_hidden_states',
});

/** One image's state while its batch denoises. */
interface ImageInProgress {
  readonly request: ResolvedGeneration;
  readonly noise: RandomState;
  readonly scheduler: Scheduler;
  latents: Float32Array;
}

export class StableDiffusionPipeline {
  readonly #parts: StableDiffusionComponents;

  constructor(parts: StableDiffusionComponents) {
    for (const name of Object.values(UNET_INPUT)) {
      if (parts.unet.inputs[name] === undefined) {
        throw new TypeError(`${parts.unet.path} has no input '${name}' (it takes ${parts.unet.inputNames.join(', ')})`);
      }
    }
    this.#parts = parts;
  }

  /** Runs compatible requests (same size, steps and scheduler) as one batch; one image per request, in order. */
  async generate(batch: readonly ResolvedGeneration[]): Promise<GeneratedImage[]> {
    assertBatchCompatible(batch);
    const { width, height } = batch[0]!;
    const latentDims = [LATENT_CHANNELS, height / VAE_DOWNSAMPLING, width / VAE_DOWNSAMPLING] as const;
    const latentSize = latentDims[0] * latentDims[1] * latentDims[2];
    const timings: StageTimings = { tokenize: 0, textEncoder: 0, denoise: 0, vae: 0, png: 0, unet: 0, scheduler: 0 };

    // 1. Encode the prompts: the prompt's embeddings, and for every request whose guidance scale
    //    turns classifier-free guidance on, the negative prompt's (or "") before it.
    const rows = buildUnetRows(batch);
    const embeddings = await encodeTexts(this.#parts.tokenizer, this.#parts.textEncoder, rows, timings);

    // 2. Prepare latents and timesteps: RandomState(seed).randn(1, 4, h/8, w/8) as float32 per
    //    request, times its scheduler's init_noise_sigma.
    let started = performance.now();
    const images = batch.map((request) => this.#prepareImage(request, latentSize));

    // 3. Denoise. Every request of the batch walks the same timesteps (same scheduler and steps).
    const hiddenStates = inputTensor(this.#parts.unet, UNET_INPUT.encoderHiddenStates, embeddings.data, embeddings.dims);
    for (const t of images[0]!.scheduler.timesteps) {
      const noisePredictions = await this.#predictNoise(images, rows, t, hiddenStates, latentDims, latentSize, timings);
      const stepping = performance.now();
      for (const [i, image] of images.entries()) {
        image.latents = image.scheduler.step(noisePredictions[i]!, t, image.latents, image.noise);
      }
      timings.scheduler += performance.now() - stepping;
    }
    timings.denoise = performance.now() - started;

    // 4. Decode the latents, divided by the VAE's scaling factor, all images in one call.
    started = performance.now();
    const decoded = await this.#decode(images, latentDims, latentSize);
    timings.vae = performance.now() - started;

    // 5. Post-process as diffusers: clip(x / 2 + 0.5, 0, 1), round(x * 255) half-to-even, then PNG.
    started = performance.now();
    const results = images.map((image, i) => {
      const pixels = decodedImageToRgb8(decoded, i, width, height);
      return { png: encodePng(pixels, width, height), pixels, width, height, seed: image.request.seed };
    });
    timings.png = performance.now() - started;
    return results.map((result) => ({ ...result, timings }));
  }

  #prepareImage(request: ResolvedGeneration, latentSize: number): ImageInProgress {
    const noise = new RandomState(request.seed);
    const scheduler = createScheduler(request.scheduler, this.#parts.schedulerConfig);
    scheduler.setTimesteps(request.steps);
    const latents = noise.randn(latentSize);
    // A float32 tensor times a Python float multiplies in float32 (the scalar rounded first).
    const sigma = Math.fround(scheduler.initNoiseSigma);
    if (sigma !== 1) for (let i = 0; i < latents.length; i++) latents[i] = Math.fround(latents[i]! * sigma);
    return { request, noise, scheduler, latents };
  }

  /** One UNet call for every row of the batch, then guidance: one noise prediction per image. */
  async #predictNoise(
    images: readonly ImageInProgress[],
    rows: readonly UnetRow[],
    t: number,
    hiddenStates: HostTensor,
    latentDims: readonly number[],
    latentSize: number,
    timings: StageTimings,
  ): Promise<Float32Array[]> {
    const unet = this.#parts.unet;
    let started = performance.now();
    const scaled = images.map((image) => image.scheduler.scaleModelInput(image.latents, t));
    timings.scheduler += performance.now() - started;
    const sample = new Float32Array(rows.length * latentSize);
    rows.forEach((row, i) => sample.set(scaled[row.request]!, i * latentSize));
    // diffusers passes `np.array([t], dtype=timestep_dtype)`: shape [1] whatever the batch (the graph
    // broadcasts it), in the dtype the graph declares; an int64 graph gets the timestep truncated.
    const timestepInfo = unet.inputs[UNET_INPUT.timestep]!;
    const timestep = inputTensor(unet, UNET_INPUT.timestep, [t], timestepInfo.rank === 0 ? [] : [1]);
    const feeds = {
      [UNET_INPUT.sample]: inputTensor(unet, UNET_INPUT.sample, sample, [rows.length, ...latentDims]),
      [UNET_INPUT.timestep]: timestep,
      [UNET_INPUT.encoderHiddenStates]: hiddenStates,
    };
    started = performance.now();
    const outputs = await unet.run(feeds);
    timings.unet += performance.now() - started;
    return applyGuidance(readFloat32(firstOutput(unet, outputs)), rows, images.map((image) => image.request), latentSize);
  }

  async #decode(images: readonly ImageInProgress[], latentDims: readonly number[], latentSize: number): Promise<Float32Array> {
    // diffusers writes `1 / 0.18215 * latents`: the reciprocal in float64, rounded to float32 when it
    // meets the float32 array, then a float32 multiply.
    const factor = Math.fround(1 / this.#parts.vaeScalingFactor);
    const scaled = new Float32Array(images.length * latentSize);
    for (const [i, image] of images.entries()) {
      for (let j = 0; j < latentSize; j++) scaled[i * latentSize + j] = Math.fround(image.latents[j]! * factor);
    }
    const vae = this.#parts.vaeDecoder;
    const input = vae.inputNames[0]!;
    const outputs = await vae.run({ [input]: inputTensor(vae, input, scaled, [images.length, ...latentDims]) });
    return readFloat32(firstOutput(vae, outputs));
  }
}

/** The first declared output: what diffusers reads as `model(...)[0]`. */
function firstOutput(session: ModelSession, outputs: Record<string, HostTensor>): HostTensor {
  const name = session.outputNames[0]!;
  const output = outputs[name];
  if (output === undefined) throw new Error(`${session.path} returned no output '${name}'`);
  return output;
}
