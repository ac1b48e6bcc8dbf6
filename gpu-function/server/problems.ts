// Every problem the GPU function answers with, in one place, so docs/gpu-function.md has one list to
// mirror; the shape, ProblemError and the plain-HTTP ones (404, 405, 500) are the contract's.
import { GPU_TOO_LONG_FOR_DEADLINE_TYPE, invalidParams, type ParamError, ProblemError } from '../../contract';
import { boundedRetryAfter } from './batcher/batcher';

export { internalError, methodNotAllowed, notFound } from '../../contract';

/** What a client is told to wait while the model loads: a download or a cold start takes a while. */
export const LOADING_RETRY_AFTER_SECONDS = 10;
/** What a client is told to wait when this instance is shutting down: another one should take it. */
export const DRAINING_RETRY_AFTER_SECONDS = 5;

/** Problem type URIs are URNs named after the docs/gpu-function.md section that explains them. */
function problemType(slug: string): string {
  return `urn:dreamurl:gpu-function:problem:${slug}`;
}

export function invalidBody(errors: readonly ParamError[]): ProblemError {
  return invalidParams({ type: problemType('invalid-body'), title: 'Invalid request body' }, errors);
}

/** `tokenSent`: a Bearer token came but is not the right one (RFC 6750 §3.1 `invalid_token`). */
/**
 * `tokenSent`: a Bearer token came but is not the right one (RFC 6750 §3.1 `invalid_token`). `setting` names
 * the variable whose token the route wants (GPU_FUNCTION_TOKEN on /v1, METRICS_TOKEN on /metrics), and
 * `realm` the protection space (RFC 9110 §11.5), so a client can tell the two apart.
 */
export function unauthorized(tokenSent: boolean, setting = 'GPU_FUNCTION_TOKEN', realm = 'gpu-function'): ProblemError {
  return new ProblemError({
    type: problemType('unauthorized'),
    title: 'Unauthorized',
    status: 401,
    detail: tokenSent
      ? `The bearer token is not this instance's ${setting}.`
      : `Send Authorization: Bearer <${setting}>.`,
    // RFC 6750 §3: a 401 for a protected resource names the scheme, and the error when a token was sent.
    headers: { 'WWW-Authenticate': `Bearer realm="${realm}"${tokenSent ? ', error="invalid_token"' : ''}` },
  });
}

export function bodyTooLarge(limit: number): ProblemError {
  return new ProblemError({
    type: 'about:blank',
    title: 'Content Too Large',
    status: 413,
    detail: `The body is larger than ${limit} bytes.`,
  });
}

export function unsupportedMediaType(): ProblemError {
  return new ProblemError({
    type: 'about:blank',
    title: 'Unsupported Media Type',
    status: 415,
    detail: 'Send the body as application/json.',
  });
}

export function modelLoading(): ProblemError {
  return new ProblemError({
    type: problemType('model-loading'),
    title: 'Model loading',
    status: 503,
    detail: 'The model is still loading or warming up.',
    retryAfterSeconds: LOADING_RETRY_AFTER_SECONDS,
  });
}

export function shuttingDown(): ProblemError {
  return new ProblemError({
    type: problemType('shutting-down'),
    title: 'Shutting down',
    status: 503,
    detail: 'This instance is shutting down and takes no new work.',
    retryAfterSeconds: DRAINING_RETRY_AFTER_SECONDS,
  });
}

/** The pipeline cannot run here any more (its worker thread crashed, or the model failed to load). */
export function pipelineUnavailable(): ProblemError {
  return new ProblemError({
    type: problemType('pipeline-unavailable'),
    title: 'Pipeline unavailable',
    status: 503,
    detail: 'The pipeline stopped working on this instance, which is going away; another instance should take it.',
    retryAfterSeconds: DRAINING_RETRY_AFTER_SECONDS,
  });
}

export function queueFull(detail: string, retryAfterSeconds: number): ProblemError {
  return new ProblemError({
    type: problemType('queue-full'),
    title: 'Queue full',
    status: 503,
    detail,
    retryAfterSeconds,
  });
}

/**
 * 413: the request alone is estimated to take longer than its deadline (X-Request-Timeout-Ms or
 * REQUEST_TIMEOUT_MS) on this instance, so it is refused before it is queued: only less work can fit.
 */
export function tooLongForDeadline(estimatedSeconds: number, timeoutMs: number): ProblemError {
  const message = 'lower it: the picture is estimated to take longer than the deadline';
  return new ProblemError({
    type: GPU_TOO_LONG_FOR_DEADLINE_TYPE,
    title: 'Too long for the deadline',
    status: 413,
    detail:
      `This picture is estimated to take ${formatSeconds(estimatedSeconds)} here, longer than its deadline of ` +
      `${timeoutMs} ms; ask for fewer steps or a smaller width × height.`,
    errors: ['steps', 'width', 'height'].map((param) => ({ param, message })),
  });
}

/**
 * 503: the request fits its deadline alone, but not behind the work already running and queued; a retry
 * after `backlogSeconds` (Retry-After, bounded like a full queue's) should find that work done.
 */
export function busyPastDeadline(estimatedSeconds: number, backlogSeconds: number, timeoutMs: number): ProblemError {
  return new ProblemError({
    type: problemType('busy-past-deadline'),
    title: 'Busy past the deadline',
    status: 503,
    detail:
      `This picture is estimated to take ${formatSeconds(estimatedSeconds)} behind ${formatSeconds(backlogSeconds)} of ` +
      `work already here, longer than its deadline of ${timeoutMs} ms.`,
    retryAfterSeconds: boundedRetryAfter(backlogSeconds),
  });
}

/** Seconds as the details print them: three significant digits ("0.0123 s", "12.3 s", "185 s"). */
function formatSeconds(seconds: number): string {
  return `${Number(seconds.toPrecision(3))} s`;
}

export function deadlineExceeded(timeoutMs: number, started: boolean): ProblemError {
  return new ProblemError({
    type: problemType('deadline-exceeded'),
    title: 'Deadline exceeded',
    status: 504,
    detail: `No picture within ${timeoutMs} ms (${started ? 'its batch was still running' : 'it was still queued'}).`,
  });
}

export function invalidHeader(name: string, message: string): ProblemError {
  return new ProblemError({
    type: problemType('invalid-header'),
    title: 'Invalid request header',
    status: 400,
    detail: `${name}: ${message}`,
    errors: [{ param: name, message }],
  });
}

export function generationFailed(): ProblemError {
  return new ProblemError({
    type: problemType('generation-failed'),
    title: 'Generation failed',
    status: 500,
    detail: 'The pipeline failed on this batch; the log has the cause.',
  });
}
