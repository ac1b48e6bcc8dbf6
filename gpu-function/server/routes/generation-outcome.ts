// How one admitted generation ends, whichever way it is answered (a plain PNG or the progress stream):
// its picture with the values the answer carries, the problem it failed with, or "the client left".
// The batcher's task is raced against the request's signal: when the client disconnects or the
// deadline passes, the request is settled at once and the signal goes on to the batcher — still
// queued, the request leaves the queue; already running, the pipeline drops it before the next
// denoising step, and a batch nobody waits for stops (generation-batcher.ts).
import { HEADERS, type ProblemError } from '../../../contract';
import type { Batched } from '../batcher/batcher';
import { QueueClosedError, QueueFullError } from '../batcher/errors';
import { errorMessage, type Logger } from '../logger';
import { PIPELINE_STAGES, type ServiceMetrics, type Stage } from '../metrics';
import { encodePngAsync } from '../../pipeline/image/encode-png';
import type { GeneratedImage, StageTimings } from '../../pipeline/types';
import { PipelineStoppedError } from '../pipeline-thread/errors';
import { deadlineExceeded, generationFailed, pipelineUnavailable, queueFull, shuttingDown } from '../problems';
import { serverTiming } from '../server-timing';

/** nginx's "client closed request": logged and counted when the client left before its answer. */
export const CLIENT_CLOSED_STATUS = 499;

/** A finished picture and the values a plain answer sends as headers (X-Seed, X-Model, Server-Timing). */
export interface Picture {
  readonly png: Uint8Array;
  readonly seed: string;
  readonly model: string;
  readonly serverTiming: string;
}

export type GenerationOutcome =
  | { readonly kind: 'picture'; readonly picture: Picture }
  | { readonly kind: 'problem'; readonly error: ProblemError }
  | { readonly kind: 'client_closed' };

export interface OutcomeContext {
  readonly metrics: ServiceMetrics;
  readonly log: Logger;
  readonly requestId: string;
  /** The request's log line fields (abandonment, batch size, timings). */
  readonly fields: Record<string, unknown>;
  /** X-Model: `<id>@<revision>`. */
  readonly model: string;
  readonly timeoutMs: number;
  readonly deadline: AbortSignal;
  readonly clientGone: AbortSignal;
  /** Whether the request's batch had started when it settled (for the abandonment's stage). */
  readonly started: () => boolean;
}

/** The task's outcome; never rejects. */
export async function generationOutcome(
  task: Promise<Batched<GeneratedImage>>,
  context: OutcomeContext,
): Promise<GenerationOutcome> {
  const { metrics, fields } = context;
  let batched: Batched<GeneratedImage>;
  try {
    batched = await untilAborted(task, AbortSignal.any([context.deadline, context.clientGone]));
  } catch (error) {
    const stage = context.started() ? 'running' : 'queued';
    if (context.clientGone.aborted) {
      metrics.abandoned.inc({ reason: 'client_closed', stage });
      fields.abandoned = `client_closed_${stage}`;
      return { kind: 'client_closed' };
    }
    if (context.deadline.aborted) {
      metrics.abandoned.inc({ reason: 'deadline', stage });
      fields.abandoned = `deadline_${stage}`;
      return { kind: 'problem', error: deadlineExceeded(context.timeoutMs, context.started()) };
    }
    return { kind: 'problem', error: problemOf(error, context) };
  }

  const { result: image, waitedMs, batchSize } = batched;
  // The batch has returned and the next one may already run: the PNG is made here, per request,
  // its compression on libuv's thread pool, so it never holds up the GPU.
  const encoding = performance.now();
  const png = await encodePngAsync(image.pixels, image.width, image.height);
  const pngMs = performance.now() - encoding;
  metrics.stageSeconds.observe({ stage: 'queue' }, waitedMs / 1000);
  metrics.stageSeconds.observe({ stage: 'png' }, pngMs / 1000);
  fields.batch_size = batchSize;
  fields.timings = stageTimings(waitedMs, image.timings, pngMs);
  return {
    kind: 'picture',
    picture: {
      png,
      seed: String(image.seed),
      model: context.model,
      serverTiming: serverTiming(waitedMs, image.timings, pngMs),
    },
  };
}

/** The outcome as the plain answer: the PNG with its headers, an empty 499, or the problem thrown for onError. */
export function plainAnswer(outcome: GenerationOutcome): Response {
  if (outcome.kind === 'client_closed') return new Response(null, { status: CLIENT_CLOSED_STATUS });
  if (outcome.kind === 'problem') throw outcome.error;
  const { png, seed, model, serverTiming } = outcome.picture;
  return new Response(png, {
    status: 200,
    headers: {
      'Content-Type': 'image/png',
      'Content-Length': String(png.byteLength),
      'Cache-Control': 'no-store',
      [HEADERS.seed]: seed,
      [HEADERS.model]: model,
      [HEADERS.serverTiming]: serverTiming,
    },
  });
}

/** The status the plain answer has (or would have had) for this outcome: the request log's `status`. */
export function outcomeStatus(outcome: GenerationOutcome): number {
  if (outcome.kind === 'client_closed') return CLIENT_CLOSED_STATUS;
  return outcome.kind === 'problem' ? outcome.error.problem.status : 200;
}

function problemOf(error: unknown, context: OutcomeContext): ProblemError {
  if (error instanceof QueueFullError) return queueFull(error.message, error.retryAfterSeconds);
  if (error instanceof QueueClosedError) return shuttingDown();
  // Queued behind a batch whose worker thread crashed: never ran, may run elsewhere.
  if (error instanceof PipelineStoppedError) return pipelineUnavailable();
  context.log('error', 'generation_failed', { id: context.requestId, error: errorMessage(error) });
  return generationFailed();
}

/** The promise's outcome, or `signal.reason` as soon as the signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Milliseconds per stage under the names of Server-Timing and sd_stage_seconds. */
function stageTimings(queueMs: number, timings: StageTimings, pngMs: number): Record<Stage, number> {
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  const result = { queue: round(queueMs) } as Record<Stage, number>;
  for (const [field, stage] of PIPELINE_STAGES) result[stage] = round(timings[field]);
  result.png = round(pngMs);
  return result;
}
