// Every problem the edge answers with, in one place, so docs/edge-api.md has one list to mirror; the
// shape, ProblemError and the plain-HTTP ones (404, 405, 500) are the contract's. Anything that should
// reach the client as an error is thrown as a ProblemError and answered by the app's single onError.
import {
  problemResponse as contractProblemResponse,
  invalidParams,
  type ParamError,
  ProblemError,
  type ProblemInit,
} from '../contract';
import { CORS_HEADERS } from './responses';

export { internalError, methodNotAllowed, notFound } from '../contract';

/** The contract's problem response with CORS, so a page on any origin can read why its picture failed. */
export function problemResponse(problem: ProblemInit): Response {
  return contractProblemResponse(problem, CORS_HEADERS);
}

/** Problem type URIs are URNs named after the docs/edge-api.md section that explains them. */
function problemType(slug: string): string {
  return `urn:dreamurl:problem:${slug}`;
}

export function invalidParameters(errors: readonly ParamError[]): ProblemError {
  return invalidParams({ type: problemType('invalid-parameters'), title: 'Invalid query parameters' }, errors);
}

export function uriTooLong(limit: number): ProblemError {
  return new ProblemError({
    type: 'about:blank',
    title: 'URI Too Long',
    status: 414,
    detail: `The request target is longer than ${limit} bytes.`,
  });
}

export function unknownApiKey(): ProblemError {
  return new ProblemError({
    type: problemType('unknown-api-key'),
    title: 'Unknown API key',
    status: 401,
    detail: 'The API key sent in Authorization or X-API-Key is not one of this service’s keys.',
    // RFC 9110 §11.6.1: a 401 names the scheme that would be accepted.
    headers: { 'WWW-Authenticate': 'Bearer realm="dreamurl"' },
  });
}

export function signatureRequired(hasSignature: boolean): ProblemError {
  return new ProblemError({
    type: problemType('signature-required'),
    title: 'A valid signature is required to generate',
    status: 403,
    detail: hasSignature
      ? 'The sig parameter does not match the other parameters.'
      : 'This picture is not cached yet and this service only generates pictures for signed URLs.',
  });
}

/** 403: a signed URL past its `exp`; the picture, once stored, stays readable without one. */
export function signatureExpired(expiresAt: number): ProblemError {
  return new ProblemError({
    type: problemType('signature-expired'),
    title: 'The signature has expired',
    status: 403,
    detail: `This URL could generate until ${new Date(expiresAt * 1000).toISOString()}; ask for a new one.`,
  });
}

/** 429: the client's tokens do not cover this generation's cost (edge/rate-limit/charge-generation.ts). */
export function rateLimited(
  decision: { readonly cost: number; readonly retryAfterSeconds: number },
  headers: Record<string, string>,
): ProblemError {
  const { cost, retryAfterSeconds } = decision;
  return new ProblemError({
    type: problemType('rate-limited'),
    title: 'Too many generations',
    status: 429,
    detail:
      `This generation costs ${cost} token${cost === 1 ? '' : 's'}; this client has them again in ${retryAfterSeconds} s. ` +
      'Cached pictures stay available.',
    retryAfterSeconds,
    headers,
  });
}

/** 429: the client already has MAX_IN_FLIGHT_PER_CLIENT generations running. */
export function tooManyInFlight(inFlight: number, retryAfterSeconds: number): ProblemError {
  return new ProblemError({
    type: problemType('too-many-in-flight'),
    title: 'Too many generations in flight',
    status: 429,
    detail: `This client already has ${inFlight} generation${inFlight === 1 ? '' : 's'} running; try again once one is done.`,
    retryAfterSeconds,
  });
}

/** 503: the GPU function could not be reached or stayed busy; a retry later may succeed. */
export function gpuUnavailable(detail: string, retryAfterSeconds: number, cause?: unknown): ProblemError {
  return new ProblemError(
    { type: problemType('gpu-unavailable'), title: 'The GPU function is unavailable', status: 503, detail, retryAfterSeconds },
    { cause },
  );
}

/**
 * 503: the image store could not be read. Answered instead of generating: the picture may well be
 * stored, and regenerating every picture while the store is down would turn a storage outage into
 * a GPU storm (and overwrite nothing useful).
 */
export function storageUnavailable(retryAfterSeconds: number, cause?: unknown): ProblemError {
  return new ProblemError(
    {
      type: problemType('storage-unavailable'),
      title: 'The image store is unavailable',
      status: 503,
      detail: 'Stored pictures cannot be read right now; try again shortly.',
      retryAfterSeconds,
    },
    { cause },
  );
}

/**
 * 422: the GPU function estimates this picture alone takes longer than the GPU_TIMEOUT_MS budget (its
 * `413 too-long-for-deadline`): valid parameters, but more work than this service waits for. `gpuDetail`
 * is the GPU function's own account (its estimate); nothing in it is secret.
 */
export function tooLongToGenerate(budgetMs: number, gpuDetail: string | undefined): ProblemError {
  const message = 'lower it: the picture would take longer than this service waits for one';
  return new ProblemError({
    type: problemType('too-long-to-generate'),
    title: 'Too long to generate in time',
    status: 422,
    detail:
      `This picture would take longer than the ${budgetMs} ms this service waits for one (GPU_TIMEOUT_MS); ` +
      `ask for fewer steps or a smaller width × height.${gpuDetail === undefined ? '' : ` The GPU function: ${gpuDetail}`}`,
    errors: ['steps', 'width', 'height'].map((param) => ({ param, message })),
  });
}

/** 502: the GPU function answered, but with an error or with something we refuse to store. */
export function badGpuResponse(detail: string): ProblemError {
  return new ProblemError({
    type: problemType('bad-gpu-response'),
    title: 'Bad answer from the GPU function',
    status: 502,
    detail,
  });
}

/** 504: the GPU function took longer than the configured timeout. */
export function gpuTimeout(timeoutMs: number, retryAfterSeconds: number): ProblemError {
  return new ProblemError({
    type: problemType('gpu-timeout'),
    title: 'The GPU function took too long',
    status: 504,
    detail: `No complete picture within ${timeoutMs} ms.`,
    retryAfterSeconds,
  });
}

/**
 * The `error` event of GET /v1/progress when no generation of the picture started within the wait:
 * watching never starts one. Not an HTTP status of its own (the stream was already a 200).
 */
export function nothingInFlight(waitedMs: number): ProblemError {
  return new ProblemError({
    type: problemType('nothing-in-flight'),
    title: 'No generation of this picture is running',
    status: 404,
    detail:
      `No generation of this picture started within ${waitedMs} ms, and it is not stored. Watching never ` +
      'starts one: request the same query from /v1/images (an <img> does), then watch.',
  });
}
