// The client of the GPU function's `POST /v1/generate`. It turns every way that call can go wrong
// into the right problem for our client, and never lets a doubtful picture through:
//   unreachable → 503 + Retry-After; 503 (or 429) + Retry-After → bounded retries, then 503;
//   413 too-long-for-deadline (it estimates the picture takes longer than our budget) → 422;
//   other status → 502; not a complete PNG of the requested size, another model, another or no seed → 502;
//   no complete answer within the time budget → 504.
// It asks for the progress stream (contract/progress-stream.ts: `queued`, `step`, then `image` or
// `error`) and passes the progress on to the generation's watchers; a GPU function that answers the
// plain PNG instead (an older one) is read as before. Both forms are checked alike.
// The tunable bounds are settings (edge/config.ts); the fixed ones are here.
import {
  EVENT_STREAM_CONTENT_TYPE,
  GPU_TOO_LONG_FOR_DEADLINE_TYPE,
  HEADERS,
  imageEventPng,
  ProblemError,
  ProgressStreamError,
  problemSchema,
  readCapped,
  readProgressStream,
  type ResolvedGeneration,
} from '../../contract';
import { badGpuResponse, gpuTimeout, gpuUnavailable, tooLongToGenerate } from '../problems';
import type { ProgressReport } from './generation-progress';
import { checkPng } from './png-check';

/** Suggested wait after a connection failure or a timeout (no Retry-After from upstream then). */
export const GPU_RETRY_AFTER_SECONDS = 10;

/** A 2048×2048 RGBA PNG stored raw is 16 MiB; anything larger is not a picture we asked for. */
export const MAX_PNG_BYTES = 24 * 1024 * 1024;

/** Where and how to call the GPU function for one generation; plain data, as it crosses Durable Object RPC. */
export interface GpuTarget {
  /** Base URL; `/v1/generate` is appended. */
  readonly url: string;
  /** Sent as `Authorization: Bearer …` when set. */
  readonly token: string | undefined;
  /** `<repo>@<revision>` of the profile: any other X-Model is refused. */
  readonly expectedModel: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryMaxWaitMs: number;
}

export interface GpuImage {
  readonly png: Uint8Array;
  readonly serverTiming: string | null;
}

export async function generateOnGpu(
  target: GpuTarget,
  body: ResolvedGeneration,
  progress?: ProgressReport,
): Promise<GpuImage> {
  const deadline = Date.now() + target.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const answer = await attemptOnce(target, body, deadline, progress);
    if (answer.kind === 'image') return answer.image;
    // 503: busy or loading. Wait as told if that fits the retry budget and the deadline.
    const waitMs = answer.retryAfterSeconds * 1000;
    const canWait = attempt < target.maxRetries && waitMs <= target.retryMaxWaitMs && Date.now() + waitMs < deadline;
    if (!canWait) throw gpuUnavailable('The GPU function is busy or still loading the model.', answer.retryAfterSeconds);
    await sleep(waitMs);
  }
}

type Attempt = { kind: 'image'; image: GpuImage } | { kind: 'busy'; retryAfterSeconds: number };

async function attemptOnce(
  target: GpuTarget,
  body: ResolvedGeneration,
  deadline: number,
  progress: ProgressReport | undefined,
): Promise<Attempt> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - Date.now()));
  try {
    let response: Response;
    try {
      response = await fetch(generateUrl(target.url), {
        method: 'POST',
        headers: requestHeaders(target.token, deadline - Date.now(), progress !== undefined),
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (error) {
      if (controller.signal.aborted) throw gpuTimeout(target.timeoutMs, GPU_RETRY_AFTER_SECONDS);
      throw gpuUnavailable('The GPU function could not be reached.', GPU_RETRY_AFTER_SECONDS, error);
    }
    if (response.status === 503 || response.status === 429) {
      // Busy or loading (the contract's 503; some GPU platforms' gateways say 429).
      await response.body?.cancel();
      return { kind: 'busy', retryAfterSeconds: parseRetryAfter(response.headers.get('Retry-After'), Date.now()) ?? 1 };
    }
    if (response.status === 413) {
      const problem = await readProblem(response);
      // Its detail (the estimate) is passed on, cut to a line: the GPU function is ours, but not trusted to be brief.
      if (problem?.type === GPU_TOO_LONG_FOR_DEADLINE_TYPE) throw tooLongToGenerate(target.timeoutMs, problem.detail?.slice(0, 300));
      throw badGpuResponse('The GPU function answered 413.');
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw badGpuResponse(`The GPU function answered ${response.status}.`);
    }
    const timedOut = () => controller.signal.aborted;
    if (response.headers.get('Content-Type')?.startsWith(EVENT_STREAM_CONTENT_TYPE)) {
      const check = (answer: GpuAnswer) => checkAnswer(target, body, answer);
      return await readStreamed(response, { progress, timedOut, timeoutMs: target.timeoutMs, check });
    }
    const png = await readPng(response, timedOut, target.timeoutMs);
    const h = response.headers;
    const answer = { png, model: h.get(HEADERS.model), seed: h.get(HEADERS.seed), serverTiming: h.get(HEADERS.serverTiming) };
    checkAnswer(target, body, answer);
    return { kind: 'image', image: { png, serverTiming: answer.serverTiming } };
  } finally {
    clearTimeout(timer);
  }
}

/** What the GPU function answered, from a plain answer's body and headers or a stream's `image` event. */
interface GpuAnswer {
  readonly png: Uint8Array;
  readonly model: string | null;
  readonly seed: string | null;
  readonly serverTiming: string | null;
}

/** Refuses, before anything is stored, a picture that is not the one the content key names. */
function checkAnswer(target: GpuTarget, body: ResolvedGeneration, answer: GpuAnswer): void {
  const check = checkPng(answer.png, body.width, body.height);
  if (!check.ok) throw badGpuResponse(`The GPU function's answer is not a valid picture: ${check.reason}.`);
  const { model, seed } = answer;
  if (model !== target.expectedModel) {
    throw badGpuResponse(`The picture came from model ${model ?? '(none)'}, not ${target.expectedModel}.`);
  }
  // No X-Seed is as doubtful as a wrong one: nothing says this picture is the one the key names.
  if (seed !== String(body.seed)) throw badGpuResponse(`The picture has seed ${seed ?? '(none)'}, not ${body.seed}.`);
}

/**
 * The progress stream: `queued` and `step` go to the watchers, `image` is checked like a plain answer,
 * `error` is mapped like a plain answer of its status (503/429 busy → retried; others → 502). A stream
 * that breaks the contract or ends early is a 502, or a 504 when our deadline cut it.
 */
async function readStreamed(
  response: Response,
  reading: {
    readonly progress: ProgressReport | undefined;
    readonly timedOut: () => boolean;
    readonly timeoutMs: number;
    readonly check: (answer: GpuAnswer) => void;
  },
): Promise<Attempt> {
  const { progress, timedOut, check } = reading;
  if (response.body === null) throw badGpuResponse('The GPU function sent an empty progress stream.');
  try {
    for await (const { event, data } of readProgressStream(response.body)) {
      if (event === 'queued') progress?.queued(data.position);
      else if (event === 'step') progress?.step(data.step, data.steps);
      else if (event === 'error') {
        if (data.status === 503 || data.status === 429) return { kind: 'busy', retryAfterSeconds: data.retry_after ?? 1 };
        throw badGpuResponse(`The GPU function answered ${data.status}.`);
      } else {
        const png = imageEventPng(data);
        if (png.byteLength > MAX_PNG_BYTES) throw badGpuResponse(`The GPU function's picture is larger than ${MAX_PNG_BYTES} bytes.`);
        const answer = { png, model: data.model, seed: data.seed, serverTiming: data.server_timing };
        check(answer);
        return { kind: 'image', image: { png, serverTiming: answer.serverTiming } };
      }
    }
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    if (timedOut()) throw gpuTimeout(reading.timeoutMs, GPU_RETRY_AFTER_SECONDS);
    if (error instanceof ProgressStreamError) throw badGpuResponse(`The GPU function's progress stream is broken: ${error.message}`);
    throw badGpuResponse('The connection to the GPU function broke off mid-stream.');
  }
  // readProgressStream ends only after `image` or `error`, both returned or thrown above.
  throw badGpuResponse("The GPU function's progress stream ended without a picture.");
}

/** Most bytes of a GPU problem the edge reads: its own are a few hundred. */
const MAX_PROBLEM_BYTES = 16 * 1024;

/** The answer's problem details, or undefined when it is not one (or too large, or broken off). */
async function readProblem(response: Response): Promise<{ type: string; detail?: string | undefined } | undefined> {
  try {
    const bytes = await readCapped(response.body, MAX_PROBLEM_BYTES, response.headers.get('Content-Length'));
    if (bytes === null) return undefined;
    const parsed = problemSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The answer's bytes, capped; a broken-off body is a 502, or a 504 when our deadline cut it. */
async function readPng(response: Response, timedOut: () => boolean, timeoutMs: number): Promise<Uint8Array> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readCapped(response.body, MAX_PNG_BYTES, response.headers.get('Content-Length'));
  } catch {
    if (timedOut()) throw gpuTimeout(timeoutMs, GPU_RETRY_AFTER_SECONDS);
    throw badGpuResponse('The connection to the GPU function broke off mid-picture.');
  }
  if (bytes === null) throw badGpuResponse(`The GPU function's answer is larger than ${MAX_PNG_BYTES} bytes.`);
  return bytes;
}

/** Retry-After (RFC 9110 §10.2.3) is either delay-seconds or an HTTP-date; both become seconds from now. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text);
  // All three HTTP-date forms (RFC 9110 §5.6.7) start with a day name; Date.parse alone would
  // read "1.5" or "-1" as dates.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

function generateUrl(base: string): string {
  return new URL('v1/generate', base.endsWith('/') ? base : `${base}/`).toString();
}

/** `remainingMs`: what is left of the budget; the GPU function drops the request once that has passed. */
function requestHeaders(token: string | undefined, remainingMs: number, stream: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    // The stream when progress is wanted; a GPU function without it answers the PNG (RFC 9110 §12.5.1).
    Accept: stream ? `${EVENT_STREAM_CONTENT_TYPE}, image/png;q=0.5` : 'image/png',
    [HEADERS.requestTimeout]: String(Math.max(1, Math.ceil(remainingMs))),
  };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return headers;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
