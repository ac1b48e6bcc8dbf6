// The client of the GPU function's `POST /v1/generate`. It turns every way that call can go wrong
// into the right problem for our client, and never lets a doubtful picture through:
//   unreachable → 503 + Retry-After; 503 (or 429) + Retry-After → bounded retries, then 503;
//   other status → 502; not a complete PNG of the requested size, or another model → 502;
//   no complete answer within the time budget → 504.
import { HEADERS, type ResolvedGeneration } from '../../contract';
import { badGpuResponse, gpuTimeout, gpuUnavailable } from '../errors/problems';
import type { GpuTarget } from './gpu-target';
import { checkPng } from './png-check';
import { GPU_RETRY_AFTER_SECONDS, MAX_PNG_BYTES } from './gpu-limits';
import { readBody } from './read-body';
import { parseRetryAfter } from './retry-after';

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
    const png = await readBody(response, MAX_PNG_BYTES, () => controller.signal.aborted, target.timeoutMs);
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
  const seed = headers.get(HEADERS.seed);
  if (seed !== null && seed !== String(body.seed)) throw badGpuResponse(`The picture has seed ${seed}, not ${body.seed}.`);
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
