// `POST /v1/generate`: validate, fill the model's defaults, refuse what cannot finish by its deadline
// (413, or 503 behind a backlog; batcher/admission.ts), queue for a batch, encode the picture's PNG
// once its batch has returned (off the GPU's critical path, generation-outcome.ts), then answer it with
// X-Seed, X-Model and Server-Timing — or, for `Accept: text/event-stream`, once the request is admitted,
// stream its progress and then the picture (progress-stream-response.ts). Refusals before admission
// are the same problems either way. A client that disconnects or whose deadline passes abandons the
// request in both forms alike (generation-outcome.ts).
import { createHash } from 'node:crypto';
import type { Handler } from 'hono';
import { EVENT_STREAM_CONTENT_TYPE, generateRequestSchema, HEADERS, type ResolvedGeneration } from '../../../contract';
import type { AppEnv } from '../app-env';
import type { GenerationBatcher } from '../generation-batcher';
import type { Logger } from '../logger';
import type { ServiceMetrics } from '../metrics';
import { busyPastDeadline, invalidBody, tooLongForDeadline } from '../problems';
import { readJsonBody } from '../read-json-body';
import type { ServiceState } from '../service-state';
import { generationOutcome, outcomeStatus, plainAnswer } from './generation-outcome';
import { ProgressStreamWriter } from './progress-stream-response';
import { requestTimeoutMs } from './request-deadline';
import { requireModel } from './require-model';

export interface GenerateDeps {
  readonly state: ServiceState;
  readonly metrics: ServiceMetrics;
  readonly log: Logger;
  readonly requestTimeoutMs: number;
  /** Longest silence on a progress stream before a `: heartbeat` comment. */
  readonly heartbeatMs: number;
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
    refuseWhatCannotFinish(model.batcher, request, remainingMs, timeoutMs, fields);
    const deadline = AbortSignal.timeout(Math.max(1, Math.ceil(remainingMs)));
    // The plain answer's client leaves by closing the connection; a stream's reader also by cancelling it.
    const streamLeft = new AbortController();
    const clientGone = AbortSignal.any([c.req.raw.signal, streamLeft.signal]);
    let started = false;
    let stream: ProgressStreamWriter | undefined;
    const task = model.batcher.add(request, {
      signal: AbortSignal.any([deadline, clientGone]),
      onStart: () => (started = true),
      onMoved: (position) => stream?.queued(position),
      onProgress: (progress) => stream?.send({ event: 'step', data: progress }),
    });
    // When the deadline or the client goes first, the task still settles later; nobody awaits it then.
    task.catch(() => undefined);
    const outcome = generationOutcome(task, {
      metrics: deps.metrics,
      log: deps.log,
      requestId: c.var.requestId,
      fields,
      model: model.identity.model,
      timeoutMs,
      deadline,
      clientGone,
      started: () => started,
    });
    // Admitted: waiting in the queue or already in a batch. A refusal (queue full, shutting down) never
    // entered the queue, and is answered as a plain problem whatever the client accepts.
    const admitted = started || model.batcher.positionOf(request) !== undefined;
    if (!admitted || !acceptsEventStream(c.req.header('Accept'))) return plainAnswer(await outcome);

    fields.stream = true;
    stream = new ProgressStreamWriter(deps.heartbeatMs, () => streamLeft.abort(new Error('The stream was cancelled.')));
    stream.queued(model.batcher.positionOf(request) ?? { ahead: 0, secondsAhead: 0 });
    const writer = stream;
    c.set(
      'streamStatus',
      outcome.then((settled) => {
        writer.finish(settled);
        return outcomeStatus(settled);
      }),
    );
    return stream.response();
  };
}

/**
 * Throws, before the request is queued, when the estimate says it cannot finish within its deadline
 * (batcher/admission.ts): 413 when it alone takes longer, 503 + Retry-After when the work ahead of it
 * makes it too late. A closing batcher is left to refuse it as shutting down.
 */
function refuseWhatCannotFinish(
  batcher: GenerationBatcher,
  request: ResolvedGeneration,
  remainingMs: number,
  timeoutMs: number,
  fields: Record<string, unknown>,
): void {
  if (batcher.isClosed) return;
  const admission = batcher.admission(request, remainingMs);
  if (admission.admitted) return;
  fields.refused = admission.reason;
  fields.estimated_ms = Math.round(admission.estimatedSeconds * 1000);
  if (admission.reason === 'too_long') throw tooLongForDeadline(admission.estimatedSeconds, timeoutMs);
  fields.backlog_ms = Math.round(admission.backlogSeconds * 1000);
  throw busyPastDeadline(admission.estimatedSeconds, admission.backlogSeconds, timeoutMs);
}

/**
 * Whether the client asked for the progress stream: `text/event-stream` listed in Accept with a q above
 * 0 (RFC 9110 §12.5.1). Anything else — none, image/png, a wildcard — keeps today's plain PNG answer.
 */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== EVENT_STREAM_CONTENT_TYPE) return false;
    const q = params.find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
