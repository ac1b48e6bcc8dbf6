// Faults between the edge (in workerd) and the GPU function (the stub, over loopback HTTP) that
// test/edge/gpu/gpu-failures.test.ts does not inject: a 503 without Retry-After, and a connection
// refused followed by a good request for the same URL. As there: the documented status
// (docs/edge-api.md "Errors"), nothing in R2 or the Cache API, and the next good request generates.
// The full list of faults and where each is tested: RELIABILITY.md.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { problemSchema } from '../../../contract';
import { edgeApp, imagesPath, ORIGIN } from '../support/edge-app';
import { gpuCalls, setScenario, uniquePrompt } from '../support/gpu-stub';

async function expectNothingStored(key: string): Promise<void> {
  expect(await env.IMAGES.head(`images/${key}.png`)).toBeNull();
  expect(await caches.default.match(`${ORIGIN}/v1/images/${key}.png`)).toBeUndefined();
}

async function expectProblem(res: Response, status: number, type: string, retryAfter: string | null): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  expect(res.headers.get('Retry-After')).toBe(retryAfter);
  expect(problemSchema.parse(await res.json())).toMatchObject({ status, type });
}

describe('a 503 without Retry-After', () => {
  // The edge waits 1 s between attempts when the GPU function does not say how long (gpu-client.ts),
  // within GPU_MAX_RETRIES (2) and GPU_TIMEOUT_MS.
  const app = edgeApp({ GPU_TIMEOUT_MS: '8000', GPU_MAX_RETRIES: '2', GPU_RETRY_MAX_WAIT_MS: '2000' });

  it('is retried, and once it persists through the retries the client gets 503 with Retry-After: 1; nothing is stored', async () => {
    const prompt = uniquePrompt('a lighthouse on a busy GPU');
    await setScenario({ prompt, mode: 'status', status: 503, times: 3 });
    const res = await app.request(imagesPath({ prompt }));
    await expectProblem(res, 503, 'urn:dreamurl:problem:gpu-unavailable', '1');
    expect(await gpuCalls(prompt)).toHaveLength(3);
    await expectNothingStored(await keyOf(app, prompt));

    const next = await app.request(imagesPath({ prompt }));
    expect(next.status).toBe(200);
    expect(next.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
    expect(await gpuCalls(prompt)).toHaveLength(4);
  });

  it('is retried after 1 s when it is transient, and the client only sees the picture', async () => {
    const prompt = uniquePrompt('a lighthouse on a briefly busy GPU');
    await setScenario({ prompt, mode: 'status', status: 503, times: 1 });
    const res = await app.request(imagesPath({ prompt }));
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
    expect(await gpuCalls(prompt)).toHaveLength(2);
  });

  it('is not waited for when the time budget is shorter than the 1 s wait: 503 at once, one call', async () => {
    const prompt = uniquePrompt('a lighthouse in a hurry');
    await setScenario({ prompt, mode: 'status', status: 503, times: 1 });
    const res = await edgeApp({ GPU_TIMEOUT_MS: '400' }).request(imagesPath({ prompt }));
    await expectProblem(res, 503, 'urn:dreamurl:problem:gpu-unavailable', '1');
    expect(await gpuCalls(prompt)).toHaveLength(1);
    await expectNothingStored(await keyOf(app, prompt));
    expect((await app.request(imagesPath({ prompt }))).status).toBe(200);
  });
});

describe('a refused connection', () => {
  it('is 503 with Retry-After: 10, stores nothing, and the same URL generates once the GPU function is reachable', async () => {
    const prompt = uniquePrompt('a lighthouse behind a closed port');
    // Nothing listens on port 1 of loopback: the connection is refused. Same bindings otherwise, so
    // the same URL has the same key in the same R2 bucket, Cache API and Durable Objects.
    const down = edgeApp({ GPU_FUNCTION_URL: 'http://127.0.0.1:1' });
    const up = edgeApp();
    const key = await keyOf(up, prompt);
    for (let attempt = 0; attempt < 2; attempt++) {
      await expectProblem(await down.request(imagesPath({ prompt })), 503, 'urn:dreamurl:problem:gpu-unavailable', '10');
      await expectNothingStored(key);
    }
    expect(await gpuCalls(prompt)).toHaveLength(0);

    const res = await up.request(imagesPath({ prompt }));
    expect(res.status).toBe(200);
    expect(res.headers.get('ETag')).toBe(`"${key}"`);
    expect(res.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });
});

async function keyOf(app: ReturnType<typeof edgeApp>, prompt: string): Promise<string> {
  const head = await app.request(imagesPath({ prompt }), { method: 'HEAD' });
  return (head.headers.get('ETag') ?? '').slice(1, -1);
}
