// The service's batcher: the generic Batcher (batcher/) wired to the pipeline's worker thread. Each
// request's AbortSignal (its client left, its deadline passed) travels with its batch, so the worker drops
// it within one denoising step and a batch nobody waits for stops; each finished step is handed to the
// request's `onProgress`. A batch holds at most MAX_BATCH_PIXELS pixels (a request's weight is its
// width × height), so its memory stays within what the warm-up measured. Images are counted when their
// batch ends; requests dropped unfinished are counted apart (sd_generations_cancelled_total) and logged
// (`generation_cancelled`), never as generations.
import { batchKeyOf } from '../pipeline/batch-compatibility';
import type { ResolvedGeneration } from '../../contract';
import type { GeneratedImage, RequestProgress, StageTimings } from '../pipeline/types';
import { Batcher } from './batcher/batcher';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';
import type { PipelineThread } from './pipeline-thread/pipeline-thread';

export type GenerationBatcher = Batcher<ResolvedGeneration, GeneratedImage, RequestProgress>;

export interface GenerationBatcherOptions {
  readonly maxBatchSize: number;
  /** MAX_BATCH_PIXELS: a companion joins a batch only while its pictures' pixels stay within it. */
  readonly maxBatchPixels: number;
  readonly batchTimeoutMs: number;
  readonly maxQueue: number;
  readonly log: Logger;
  readonly metrics: ServiceMetrics;
}

/**
 * A request's work, grouped as a batch's time divides (batcher/throughput.ts): the text encoder runs
 * once a picture; the VAE decoder and the batch's overhead (latents, copying pictures off the worker)
 * grow with pictures or pixels; the UNet with evaluations (its per-call cost, which dominates small
 * pictures) or pixels × evaluations. Evaluations are counted as steps + 1 (PNDM's, the most any scheduler
 * makes): for the others the rate comes out a little low, which errs towards admitting (admission.ts).
 */
export function generationCost(request: ResolvedGeneration): readonly (readonly number[])[] {
  const pixels = request.width * request.height;
  const evaluations = request.steps + 1;
  return [[1], [1, pixels], [evaluations, pixels * evaluations]];
}

/**
 * A batch's time split as generationCost's groups are: its stage times, and what `totalMs` (the batch as
 * the service saw it) spent outside them counted with the VAE.
 */
export function generationTimeParts(timings: StageTimings, totalMs: number): readonly number[] {
  const encode = timings.tokenize + timings.textEncoder;
  const rest = Math.max(0, totalMs - encode - timings.vae - timings.denoise);
  return [encode, timings.vae + rest, timings.denoise];
}

export function generationBatcher(
  pipeline: Pick<PipelineThread, 'generate'>,
  options: GenerationBatcherOptions,
): GenerationBatcher {
  const { log, metrics } = options;
  return new Batcher<ResolvedGeneration, GeneratedImage, RequestProgress>({
    keyOf: batchKeyOf,
    costOf: generationCost,
    maxBatchSize: options.maxBatchSize,
    weightOf: (request) => request.width * request.height,
    maxBatchWeight: options.maxBatchPixels,
    batchTimeoutMs: options.batchTimeoutMs,
    maxQueue: options.maxQueue,
    async run(batch, { signals, report, measured }) {
      // Steps each request took part in: where the dropped ones stopped.
      const stepsDone = batch.map(() => 0);
      let steps = 0;
      const startedAt = performance.now();
      const images = await pipeline.generate(batch, {
        signals,
        onStep(progress) {
          steps = progress.steps;
          for (const index of progress.requests) {
            stepsDone[index] = progress.step;
            report(index, { step: progress.step, steps: progress.steps });
          }
        },
      });
      const made = images.filter((image) => image !== undefined);
      if (made.length > 0) {
        metrics.observeBatch(batch.length, made.length, made[0]!.timings);
        measured(generationTimeParts(made[0]!.timings, performance.now() - startedAt));
      }
      const dropped = images.flatMap((image, index) => (image === undefined ? [index] : []));
      if (dropped.length > 0) {
        metrics.cancelled.inc(dropped.length);
        log('info', 'generation_cancelled', {
          images: dropped.length,
          batch_size: batch.length,
          batch_stopped: made.length === 0,
          steps_done: dropped.map((index) => stepsDone[index]),
          steps: steps || undefined,
        });
      }
      return images;
    },
  });
}
