// `POST /v1/generate`: validate, fill the model's defaults, queue for a batch, encode the picture's PNG
// once its batch has returned (off the GPU's critical path), answer it with X-Seed, X-Model and
// Server-Timing. When its client disconnects or its deadline passes, the request is answered at once (499
// in the log, or 504) and its signal goes on to the batcher: still queued, it leaves the queue; already
// running, the pipeline drops it before the next denoising step, and a batch nobody waits for stops
// (generation-batcher.ts).
import { createHash } from 'node:crypto';
import type { Handler } from 'hono';
import { generateRequestSchema, HEADERS } from '../../../contract';
import type { AppEnv } from '../app-env';
import { QueueClosedError, QueueFullError } from '../batcher/errors';
import { errorMessage, type Logger } from '../logger';
import { PIPELINE_STAGES, type ServiceMetrics, type Stage } from '../metrics';
import { encodePngAsync } from '../../pipeline/image/encode-png';
import type { StageTimings } from '../../pipeline/types';
import { PipelineStoppedError } from '../pipeline-thread/errors';
import {
  deadlineExceeded,
  generationFailed,
  invalidBody,
  pipelineUnavailable,
  queueFull,
  shuttingDown,
} from '../problems';
import { readJsonBody } from '../read-json-body';
import { serverTiming } from '../server-timing';
import type { ServiceState } from '../service-state';
import { requestTimeoutMs } from './request-deadline';
import { requireModel } from './require-model';

/** nginx's "client closed request": logged and counted when the client left before its answer. */
export const CLIENT_CLOSED_STATUS = 499;

export interface GenerateDeps {
  readonly state: ServiceState;
  readonly metrics: ServiceMetrics;
  readonly log: Logger;
  readonly requestTimeoutMs: number;
}

export function generateHandler(deps: GenerateDeps): Handler<AppEnv> {
  return async function generate(c) {
    const model = requireModel(deps.state);
    const body = await readJsonBody(c.req.raw, generateRequestSchema);
    const problems = model.params.problemsOf(body);
    if (problems.length > 0) throw invalidBody(problems);
    const timeoutMs = requestTimeoutMs(c.req.header(HEADERS.requestTimeout), deps.requestTimeoutMs);
    const request = model.params.resolve(body);
    const fields = c.var.logFields;
    Object.assign(fields, {
      prompt_sha256: createHash('sha256').update(request.prompt, 'utf8').digest('hex'),
      seed: request.seed,
      steps: request.steps,
      guidance: request.guidance,
      width: request.width,
      height: request.height,
      scheduler: request.scheduler,
    });

    const remainingMs = timeoutMs - (performance.now() - c.var.arrivedAt);
    const deadline = AbortSignal.timeout(Math.max(1, Math.ceil(remainingMs)));
    const clientGone = c.req.raw.signal;
    const signal = AbortSignal.any([deadline, clientGone]);
    let started = false;
    const task = model.batcher.add(request, { signal, onStart: () => (started = true) });
    // When the deadline or the client goes first, the task still settles later; nobody awaits it then.
    task.catch(() => undefined);

    let batched;
    try {
      batched = await untilAborted(task, signal);
    } catch (error) {
      const stage = started ? 'running' : 'queued';
      if (clientGone.aborted) {
        deps.metrics.abandoned.inc({ reason: 'client_closed', stage });
        fields.abandoned = `client_closed_${stage}`;
        return new Response(null, { status: CLIENT_CLOSED_STATUS });
      }
      if (deadline.aborted) {
        deps.metrics.abandoned.inc({ reason: 'deadline', stage });
        fields.abandoned = `deadline_${stage}`;
        throw deadlineExceeded(timeoutMs, started);
      }
      if (error instanceof QueueFullError) throw queueFull(error.message, error.retryAfterSeconds);
      if (error instanceof QueueClosedError) throw shuttingDown();
      // Queued behind a batch whose worker thread crashed: never ran, may run elsewhere.
      if (error instanceof PipelineStoppedError) throw pipelineUnavailable();
      deps.log('error', 'generation_failed', { id: c.var.requestId, error: errorMessage(error) });
      throw generationFailed();
    }

    const { result: image, waitedMs, batchSize } = batched;
    // The batch has returned and the next one may already run: the PNG is made here, per request,
    // its compression on libuv's thread pool, so it never holds up the GPU.
    const encoding = performance.now();
    const png = await encodePngAsync(image.pixels, image.width, image.height);
    const pngMs = performance.now() - encoding;
    deps.metrics.stageSeconds.observe({ stage: 'queue' }, waitedMs / 1000);
    deps.metrics.stageSeconds.observe({ stage: 'png' }, pngMs / 1000);
    fields.batch_size = batchSize;
    fields.timings = stageTimings(waitedMs, image.timings, pngMs);
    return new Response(png, {
      status: 200,
      headers: {
        'Content-Type': 'image/png',
        'Content-Length': String(png.byteLength),
        'Cache-Control': 'no-store',
        [HEADERS.seed]: String(image.seed),
        [HEADERS.model]: model.identity.model,
        [HEADERS.serverTiming]: serverTiming(waitedMs, image.timings, pngMs),
      },
    });
  };
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
