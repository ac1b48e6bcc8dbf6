// The deployed entry point (edge/worker.ts) end to end: its own config parse of the bindings, its
// Durable Objects, R2 and Cache API, as `wrangler deploy` would run them.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { imagesPath } from './support/edge-app';
import { gpuCalls, uniquePrompt } from './support/gpu-stub';

describe('the Worker', () => {
  it('generates through its Durable Object, stores, then serves the hit', async () => {
    const prompt = uniquePrompt('a worker lighthouse');
    const first = await exports.default.fetch(`http://edge.test${imagesPath({ prompt })}`);
    expect(first.status).toBe(200);
    const bytes = new Uint8Array(await first.arrayBuffer());
    expect(first.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');

    const key = (first.headers.get('ETag') ?? '').slice(1, -1);
    const byKey = await exports.default.fetch(`http://edge.test/v1/images/${key}.png`);
    expect(byKey.status).toBe(200);
    expect(new Uint8Array(await byKey.arrayBuffer())).toEqual(bytes);
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });

  it('answers an unknown path with a 404 problem', async () => {
    const res = await exports.default.fetch('http://edge.test/no/such/page');
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  });
});
