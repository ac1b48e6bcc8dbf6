// The edge's model profile read from the GPU function itself (`GET /v1/model`), so the edge pins
// exactly the `<id>@<revision>` its pictures will carry (X-Model) and resolves defaults and checks
// limits as the GPU function will. Three callers: `npm start` (wrangler dev's MODELS), `npm run deploy`
// (the deployed Worker's MODELS) and the Node edge started without MODELS. /v1/model's defaults and
// limits already have the profile's shape (the contract's model profile).
import { type ModelInfo, modelInfoSchema } from '../../contract';
import { type ModelProfile, modelProfileSchema } from '../config';
import { parseRetryAfter } from './gpu-client';

/** The GPU function answered something that waiting will not change (401, 404, a body that is no model info). */
export class GpuModelInfoError extends Error {
  override readonly name = 'GpuModelInfoError';
}

/** One `GET <gpuUrl>/v1/model`; a 503 (still loading) is thrown as a GpuModelInfoError too. */
export async function readModelInfo(gpuUrl: string, token: string | undefined): Promise<ModelInfo> {
  const answer = await askModelInfo(gpuUrl, token);
  if (answer.kind === 'loading') throw new GpuModelInfoError(`GET ${modelUrl(gpuUrl)} answered 503: the model is still loading`);
  return answer.info;
}

export interface WaitForModelOptions {
  /** Give up after this long (connection refused and 503 "loading" are waited through until then). */
  readonly timeoutMs: number;
  /** Told why each retry waits (for a log line); never given the token. */
  readonly onWait?: (reason: string, waitMs: number) => void;
}

/**
 * GET /v1/model until the GPU function has its model: a GPU function that is not listening yet or
 * still downloading and warming up its model (503 + Retry-After) is waited for; any other answer is
 * final. Waits follow Retry-After, between 1 and 10 s.
 */
export async function waitForModelInfo(gpuUrl: string, token: string | undefined, options: WaitForModelOptions): Promise<ModelInfo> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let reason: string;
    let waitMs = 1_000;
    try {
      const answer = await askModelInfo(gpuUrl, token);
      if (answer.kind === 'ready') return answer.info;
      reason = 'the model is still loading (503)';
      waitMs = 1_000 * Math.min(10, Math.max(1, answer.retryAfterSeconds ?? 1));
    } catch (error) {
      if (error instanceof GpuModelInfoError) throw error;
      reason = `not reachable (${causeOf(error)})`;
    }
    if (Date.now() + waitMs > deadline) {
      throw new GpuModelInfoError(`GET ${modelUrl(gpuUrl)}: no model after ${Math.round(options.timeoutMs / 1000)} s; last: ${reason}`);
    }
    options.onWait?.(reason, waitMs);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

type ModelAnswer = { kind: 'ready'; info: ModelInfo } | { kind: 'loading'; retryAfterSeconds: number | undefined };

async function askModelInfo(gpuUrl: string, token: string | undefined): Promise<ModelAnswer> {
  const url = modelUrl(gpuUrl);
  const response = await fetch(url, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  if (response.status === 503) {
    await response.body?.cancel();
    return { kind: 'loading', retryAfterSeconds: parseRetryAfter(response.headers.get('Retry-After'), Date.now()) };
  }
  const text = await response.text();
  if (response.status !== 200) {
    const hint = response.status === 401 ? ' (GPU_FUNCTION_TOKEN must be the token the GPU function was given)' : '';
    throw new GpuModelInfoError(`GET ${url} answered ${response.status}${hint}: ${text.slice(0, 300)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new GpuModelInfoError(`GET ${url} answered 200 but not with JSON: is it a dreamurl GPU function?`);
  }
  const parsed = modelInfoSchema.safeParse(json);
  if (!parsed.success) throw new GpuModelInfoError(`GET ${url} answered 200 but not with a model: is it a dreamurl GPU function?`);
  return { kind: 'ready', info: parsed.data };
}

/** The one (default) profile for the model a GPU function serves, checked by the edge's own schema. */
export function profileFromModelInfo(info: ModelInfo): ModelProfile {
  return modelProfileSchema.parse({
    name: profileName(info.id),
    repo: info.id,
    revision: info.revision,
    default: true,
    defaults: info.defaults,
    limits: info.limits,
  });
}

/**
 * A profile name (what `model=` selects; lower-case letters, digits, `.`, `_`, `-`) from the model id:
 * the repo's name without its owner, `CompVis/stable-diffusion-v1-4` → `stable-diffusion-v1-4`,
 * a local folder `tiny-sd` → `tiny-sd`.
 */
export function profileName(id: string): string {
  const base = (id.split('/').pop() ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
  return base === '' ? 'model' : base;
}

function modelUrl(gpuUrl: string): string {
  return `${gpuUrl.replace(/\/+$/, '')}/v1/model`;
}

function causeOf(error: unknown): string {
  const cause = error instanceof Error ? (error.cause ?? error) : error;
  if (cause instanceof Error) return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
  return String(cause);
}
