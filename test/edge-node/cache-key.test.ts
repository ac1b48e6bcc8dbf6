// The Node edge's LRU keys a picture by its canonical content URL on one fixed origin, never by the
// request's Host or spelling: on Node the Host header is whatever the client sends, so keying on it
// let one client flush everyone's pictures out of the LRU with 500 made-up Hosts.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrompt } from '../contract/gpu-stub-control';
import { type NodeStack, startNodeStack } from './support/node-stack';

let stack: NodeStack;

beforeAll(async () => {
  stack = await startNodeStack();
});

afterAll(async () => {
  await stack?.close();
});

/** A GET with a Host header of our choosing (fetch may not set Host). */
function getWithHost(url: string, path: string, host: string): Promise<{ status: number; cacheStatus: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { headers: { Host: host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cacheStatus: String(res.headers['cache-status']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const keyOf = (res: Response) => (res.headers.get('ETag') ?? '').slice(1, -1);

describe('the Node LRU key', () => {
  it('is one entry per picture: 500 Host values and %-spellings of its path neither add entries nor evict others', async () => {
    // Room for a few of the stub's 64×64 pictures (≈ 12 KiB each), not for hundreds.
    const edge = await stack.edge({ IMAGE_CACHE_MAX_BYTES: String(64 * 1024) });
    const first = await fetch(`${edge.url}/v1/images?prompt=${encodeURIComponent(uniquePrompt('a kept lighthouse'))}`);
    const other = await fetch(`${edge.url}/v1/images?prompt=${encodeURIComponent(uniquePrompt('a flooded lighthouse'))}`);
    expect([first.status, other.status]).toEqual([200, 200]);
    await first.arrayBuffer();
    await other.arrayBuffer();
    expect(edge.deps.cache.stats().entries).toBe(2);
    const before = edge.deps.cache.stats().bytes;

    const path = `/v1/images/${keyOf(other)}.png`;
    const spelled = `/v1/images/${[...keyOf(other)].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}.png`;
    for (let i = 0; i < 500; i++) {
      const answer = await getWithHost(edge.url, i % 2 === 0 ? path : spelled, `host-${i}.example`);
      expect(answer, `request ${i}`).toEqual({ status: 200, cacheStatus: 'dreamurl; hit; detail=cache' });
    }
    expect(edge.deps.cache.stats()).toMatchObject({ entries: 2, bytes: before });
    const kept = await fetch(`${edge.url}/v1/images/${keyOf(first)}.png`);
    expect(kept.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=cache');
  });
});
