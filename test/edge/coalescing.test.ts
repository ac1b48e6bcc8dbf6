// Concurrent misses for one picture make exactly one GPU call (they meet in the key's Durable
// Object), and everyone gets the same bytes; the stored picture then serves later requests.
import { describe, expect, it } from 'vitest';
import { edgeApp, imagesPath } from './support/edge-app';
import { gpuCalls, setScenario, uniquePrompt } from './support/gpu-stub';

const app = edgeApp();

describe('coalescing', () => {
  it('16 concurrent misses → one GPU call, 16 identical pictures', async () => {
    const prompt = uniquePrompt('a crowded market');
    // A slow GPU keeps the first generation running while the other 15 requests arrive.
    await setScenario({ prompt, mode: 'slow', delayMs: 400 });
    const responses = await Promise.all(Array.from({ length: 16 }, () => app.request(imagesPath({ prompt }))));
    expect(responses.map((r) => r.status)).toEqual(Array(16).fill(200));
    const bodies = await Promise.all(responses.map(async (r) => new Uint8Array(await r.arrayBuffer())));
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(new Set(responses.map((r) => r.headers.get('ETag'))).size).toBe(1);
    expect(await gpuCalls(prompt)).toHaveLength(1);
    // One request made the picture; the others say they joined it (RFC 9211 detail).
    const statuses = responses.map((r) => r.headers.get('Cache-Status'));
    expect(statuses.filter((s) => s === 'dreamurl; fwd=miss; stored')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'dreamurl; fwd=miss; stored; detail=coalesced')).toHaveLength(15);
  });

  it('does not coalesce different pictures', async () => {
    const prompt = uniquePrompt('a quiet market');
    await Promise.all([1, 2, 3].map((seed) => app.request(imagesPath({ prompt, seed }))));
    expect((await gpuCalls(prompt)).map((c) => c.body.seed).sort()).toEqual([1, 2, 3]);
  });

  it('retries after a failed generation instead of remembering the failure', async () => {
    const prompt = uniquePrompt('a closed market');
    await setScenario({ prompt, mode: 'status', status: 500, times: 1 });
    expect((await app.request(imagesPath({ prompt }))).status).toBe(502);
    expect((await app.request(imagesPath({ prompt }))).status).toBe(200);
    expect(await gpuCalls(prompt)).toHaveLength(2);
  });
});
