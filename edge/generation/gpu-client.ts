// The client of the GPU function's `POST /v1/generate`. It turns every way that call can go wrong
// into the right problem for our client, and never lets a doubtful picture through:
//   unreachable → 503 + Retry-After; 503 (or 429) + Retry-After → bounded retries, then 503;
//   other status → 502; not a complete PNG of the requested size, another model, another or no seed → 502;
//   no complete answer within the time budget → 504.
// The tunable bounds are settings (edge/config.ts); the fixed ones are here.
import { HEADERS, readCapped, type ResolvedGeneration } from '../../contract';
import { badGpuResponse, gpuTimeout, gpuUnavailable } from '../problems';
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

export async function generateOnGpu(target: GpuTarget, body: ResolvedGeneration): Promise<GpuImage> {
  const deadline = Date.now() + target.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const answer = await attemptOnce(target, body, deadline);
    if (answer.kind === 'image') return answer.image;
    // 503: busy or loading. Wait as told if that fits the retry budget and the deadline.
    const waitMs = answer.retryAfterSeconds * 1000;
    const canWait = attempt < target.maxRetries && waitMs <= target.retryMaxWaitMs && Date.now() + waitMs < deadline;
    if (!canWait) throw gpuUnavailable('The GPU function is busy or still loading the model.', answer.retryAfterSeconds);
    await sleep(waitMs);
  }
}

type Attempt = { kind: 'image'; image: GpuImage } | { kind: 'busy'; retryAfterSeconds: number };

async function attemptOnce(target: GpuTarget, body: ResolvedGeneration, deadline: number): Promise<Attempt> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - Date.now()));
  try {
    let response: Response;
    try {
      response = await fetch(generateUrl(target.url), {
        method: 'POST',
        headers: requestHeaders(target.token, deadline - Date.now()),
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
    if (!response.ok) {
      await response.body?.cancel();
      throw badGpuResponse(`The GPU function answered ${response.status}.`);
    }
    const png = await readPng(response, () => controller.signal.aborted, target.timeoutMs);
    checkAnswer(target, body, response.headers, png);
    return { kind: 'image', image: { png, serverTiming: response.headers.get(HEADERS.serverTiming) } };
  } finally {
    clearTimeout(timer);
  }
}

/** Refuses, before anything is stored, a picture that is not the one the content key names. */
function checkAnswer(target: GpuTarget, body: ResolvedGeneration, headers: Headers, png: Uint8Array): void {
  const check = checkPng(png, body.width, body.height);
  if (!check.ok) throw badGpuResponse(`The GPU function's answer is not a valid picture: ${check.reason}.`);
  const model = headers.get(HEADERS.model);
  if (model !== target.expectedModel) {
    throw badGpuResponse(`The picture came from model ${model ?? '(none)'}, not ${target.expectedModel}.`);
  }
  // No X-Seed is as doubtful as a wrong one: nothing says this picture is the one the key names.
  const seed = headers.get(HEADERS.seed);
  if (seed !== String(body.seed)) throw badGpuResponse(`The picture has seed ${seed ?? '(none)'}, not ${body.seed}.`);
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
function requestHeaders(token: string | undefined, remainingMs: number): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'image/png',
    [HEADERS.requestTimeout]: String(Math.max(1, Math.ceil(remainingMs))),
  };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return headers;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
