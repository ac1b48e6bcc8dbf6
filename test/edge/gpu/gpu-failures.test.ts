// Every way the GPU function can fail maps to the right answer for the client, and NOTHING is
// stored: not in R2, not in the Cache API, so the next request (once the GPU behaves) generates.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { GPU_TOO_LONG_FOR_DEADLINE_TYPE, problemSchema } from '../../../contract';
import type { Scenario } from '../../support/gpu-stub-server';
import { CACHE_ORIGIN } from '../../../edge/config';
import { cacheUrl } from '../../../edge/request/content-key';
import { edgeApp, imagesPath } from '../support/edge-app';
import { gpuCalls, setScenario, uniquePrompt } from '../support/gpu-stub';

// A short budget keeps the timeout cases fast; retries wait at most 2 s.
const app = edgeApp({ GPU_TIMEOUT_MS: '400', GPU_MAX_RETRIES: '2', GPU_RETRY_MAX_WAIT_MS: '2000' });

type Case = {
  readonly label: string;
  readonly scenario: Omit<Scenario, 'prompt'>;
  readonly status: number;
  readonly retryAfter: string | null;
  /** GPU calls made for the failing request. */
  readonly calls: number;
};

const cases: Case[] = [
  { label: 'an upstream 500', scenario: { mode: 'status', status: 500 }, status: 502, retryAfter: null, calls: 1 },
  { label: 'an upstream 502 from its gateway', scenario: { mode: 'status', status: 502 }, status: 502, retryAfter: null, calls: 1 },
  { label: 'an upstream 400 (a request it rejects)', scenario: { mode: 'status', status: 400 }, status: 502, retryAfter: null, calls: 1 },
  { label: 'an upstream 413 of its own (a body too large)', scenario: { mode: 'status', status: 413 }, status: 502, retryAfter: null, calls: 1 },
  {
    label: 'an upstream 413 too-long-for-deadline (the picture would outlast GPU_TIMEOUT_MS)',
    scenario: { mode: 'status', status: 413, problemType: GPU_TOO_LONG_FOR_DEADLINE_TYPE },
    status: 422,
    retryAfter: null,
    calls: 1,
  },
  { label: 'an upstream 401 (wrong token)', scenario: { mode: 'status', status: 401 }, status: 502, retryAfter: null, calls: 1 },
  { label: 'a body that is not a PNG', scenario: { mode: 'not_png' }, status: 502, retryAfter: null, calls: 1 },
  { label: 'a truncated PNG', scenario: { mode: 'truncated' }, status: 502, retryAfter: null, calls: 1 },
  { label: 'a PNG with a corrupted chunk', scenario: { mode: 'corrupt' }, status: 502, retryAfter: null, calls: 1 },
  { label: 'a connection dropped mid-body', scenario: { mode: 'drop' }, status: 502, retryAfter: null, calls: 1 },
  { label: 'a PNG of the wrong size', scenario: { mode: 'wrong_size' }, status: 502, retryAfter: null, calls: 1 },
  { label: 'a picture from another model', scenario: { mode: 'wrong_model' }, status: 502, retryAfter: null, calls: 1 },
  {
    label: 'a picture from another revision of the same model',
    scenario: { mode: 'wrong_model', model: 'tiny-sd@local-ffffffffffffffff' },
    status: 502,
    retryAfter: null,
    calls: 1,
  },
  { label: 'a picture without X-Model', scenario: { mode: 'no_model' }, status: 502, retryAfter: null, calls: 1 },
  { label: 'a picture with another seed', scenario: { mode: 'wrong_seed' }, status: 502, retryAfter: null, calls: 1 },
  { label: 'a picture without X-Seed', scenario: { mode: 'no_seed' }, status: 502, retryAfter: null, calls: 1 },
  { label: 'an answer slower than the budget', scenario: { mode: 'slow', delayMs: 3000 }, status: 504, retryAfter: '10', calls: 1 },
  { label: 'a body that trickles in', scenario: { mode: 'trickle', delayMs: 100 }, status: 504, retryAfter: '10', calls: 1 },
  { label: 'no answer at all', scenario: { mode: 'hang' }, status: 504, retryAfter: '10', calls: 1 },
  {
    label: 'a 503 that persists through the bounded retries',
    scenario: { mode: 'status', status: 503, retryAfter: 0 },
    status: 503,
    retryAfter: '0',
    calls: 3,
  },
  {
    label: 'a 429 from the GPU platform, treated as busy',
    scenario: { mode: 'status', status: 429, retryAfter: 60 },
    status: 503,
    retryAfter: '60',
    calls: 1,
  },
  {
    label: 'a 503 whose Retry-After is too long to wait for',
    scenario: { mode: 'status', status: 503, retryAfter: 120 },
    status: 503,
    retryAfter: '120',
    calls: 1,
  },
];

async function expectNothingStored(key: string): Promise<void> {
  expect(await env.IMAGES.head(`images/${key}.png`)).toBeNull();
  expect(await caches.default.match(cacheUrl(CACHE_ORIGIN, key))).toBeUndefined();
}

async function keyFor(prompt: string): Promise<string> {
  const head = await app.request(imagesPath({ prompt }), { method: 'HEAD' });
  return (head.headers.get('ETag') ?? '').slice(1, -1);
}

describe('GPU failures', () => {
  it.each(cases)('$label → $status', async ({ scenario, status, retryAfter, calls }) => {
    const prompt = uniquePrompt('a failing lighthouse');
    await setScenario({ prompt, ...scenario, times: calls });
    const key = await keyFor(prompt);

    const res = await app.request(imagesPath({ prompt }));
    expect(res.status).toBe(status);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(res.headers.get('Retry-After')).toBe(retryAfter);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(problemSchema.parse(await res.json()).status).toBe(status);
    expect(await gpuCalls(prompt)).toHaveLength(calls);
    await expectNothingStored(key);

    // The scenario is used up: the next request generates (it would be a hit had anything been stored).
    const retry = await app.request(imagesPath({ prompt }));
    expect(retry.status).toBe(200);
    expect(retry.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
    expect(await gpuCalls(prompt)).toHaveLength(calls + 1);
  });

  it('answers a GPU too-long-for-deadline as 422 naming what to lower, with the budget and the GPU estimate', async () => {
    const prompt = uniquePrompt('a lighthouse of 150 steps');
    const gpuDetail = 'This picture is estimated to take 185 s here, longer than its deadline of 399 ms; ask for fewer steps.';
    await setScenario({ prompt, mode: 'status', status: 413, problemType: GPU_TOO_LONG_FOR_DEADLINE_TYPE, detail: gpuDetail, times: 1 });
    const res = await app.request(imagesPath({ prompt }));
    expect(res.status).toBe(422);
    const problem = problemSchema.parse(await res.json());
    expect(problem).toMatchObject({ type: 'urn:dreamurl:problem:too-long-to-generate', title: 'Too long to generate in time' });
    expect(problem.detail).toBe(
      'This picture would take longer than the 400 ms this service waits for one (GPU_TIMEOUT_MS); ask for fewer ' +
        `steps or a smaller width × height. The GPU function: ${gpuDetail}`,
    );
    expect(problem.errors?.map((e) => e.param)).toEqual(['steps', 'width', 'height']);
    // Not retried: a retry within the same budget would be refused alike.
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });

  it('honours a short Retry-After on 503 and then succeeds', async () => {
    const prompt = uniquePrompt('a loading lighthouse');
    await setScenario({ prompt, mode: 'status', status: 503, retryAfter: 1, times: 1 });
    const res = await edgeApp({ GPU_TIMEOUT_MS: '5000' }).request(imagesPath({ prompt }));
    expect(res.status).toBe(200);
    expect(await gpuCalls(prompt)).toHaveLength(2);
  });

  it('tells the GPU function how long it will still wait (X-Request-Timeout-Ms), less on a retry', async () => {
    const prompt = uniquePrompt('a lighthouse against the clock');
    await setScenario({ prompt, mode: 'status', status: 503, retryAfter: 1, times: 1 });
    const res = await edgeApp({ GPU_TIMEOUT_MS: '5000' }).request(imagesPath({ prompt }));
    expect(res.status).toBe(200);
    const [first, second] = (await gpuCalls(prompt)).map((call) => Number(call.requestTimeoutMs));
    expect(first).toBeGreaterThan(4000);
    expect(first).toBeLessThanOrEqual(5000);
    // The retry came after the 1 s Retry-After, so at least that much less is left.
    expect(second).toBeLessThanOrEqual((first ?? 0) - 1000);
    expect(second).toBeGreaterThan(0);
  });

  it('answers 503 with Retry-After when the GPU function cannot be reached', async () => {
    const prompt = uniquePrompt('an unreachable lighthouse');
    // Port 1 on loopback: nothing listens there, the connection is refused.
    const unreachable = edgeApp({ GPU_FUNCTION_URL: 'http://127.0.0.1:1' });
    const key = await keyFor(prompt);
    const res = await unreachable.request(imagesPath({ prompt }));
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('10');
    expect(problemSchema.parse(await res.json())).toMatchObject({ type: 'urn:dreamurl:problem:gpu-unavailable' });
    await expectNothingStored(key);
  });

  it('sends GPU_FUNCTION_TOKEN as a Bearer token, and nothing when it is unset', async () => {
    const withToken = uniquePrompt('a tokened lighthouse');
    await edgeApp({ GPU_FUNCTION_TOKEN: 'gpu-secret' }).request(imagesPath({ prompt: withToken }));
    expect((await gpuCalls(withToken))[0]?.authorization).toBe('Bearer gpu-secret');
    const without = uniquePrompt('an open lighthouse');
    await app.request(imagesPath({ prompt: without }));
    expect((await gpuCalls(without))[0]?.authorization).toBeNull();
  });

  it('routes a profile with its own gpu_function_url there and checks that model’s identity', async () => {
    const prompt = uniquePrompt('a lighthouse by another model');
    const res = await app.request(imagesPath({ prompt, model: 'other' }));
    expect(res.status).toBe(200);
    const [call] = await gpuCalls(prompt);
    expect(call?.model).toBe('acme/other@0123abcd');
    expect(call?.body).toMatchObject({ steps: 10, guidance: 5, scheduler: 'euler', width: 96, height: 64 });
  });
});
