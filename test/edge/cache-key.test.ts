// The Cache API key of a picture is its canonical content URL on one fixed origin (cacheUrl), never
// the request's own Host or spelling: one picture is one cache entry, however it is asked for.
import { describe, expect, it } from 'vitest';
import { CACHE_ORIGIN } from '../../edge/config';
import { cacheUrl } from '../../edge/request/content-key';
import { edgeApp, imagesPath, ORIGIN } from './support/edge-app';
import { gpuCalls, uniquePrompt } from './support/gpu-stub';

const app = edgeApp();

/** `/v1/images/<key>.png` with every character of the key percent-encoded (`%61` for `a`, `%38` for `8`). */
function percentSpelled(key: string): string {
  return `/v1/images/${[...key].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}.png`;
}

describe('the cache key', () => {
  it('is the content URL on the fixed origin, whatever Host the request came to', async () => {
    const prompt = uniquePrompt('a lighthouse behind another name');
    const made = await app.request(imagesPath({ prompt }));
    expect(made.status).toBe(200);
    const key = (made.headers.get('ETag') ?? '').slice(1, -1);
    expect(await caches.default.match(cacheUrl(CACHE_ORIGIN, key))).toBeDefined();

    for (const origin of ['http://other.test', 'https://edge.test:8443', 'http://203.0.113.9']) {
      const byQuery = await app.request(imagesPath({ prompt }), {}, origin);
      expect(byQuery.headers.get('Cache-Status'), origin).toBe('dreamurl; hit; detail=cache');
      const byKey = await app.request(`/v1/images/${key}.png`, {}, origin);
      expect(byKey.headers.get('Cache-Status'), origin).toBe('dreamurl; hit; detail=cache');
      expect(await caches.default.match(`${origin}/v1/images/${key}.png`), origin).toBeUndefined();
    }
    expect(await caches.default.match(`${ORIGIN}/v1/images/${key}.png`)).toBeUndefined();
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });

  it('is the same entry for another spelling of the content path (%38 for 8)', async () => {
    const prompt = uniquePrompt('a lighthouse spelled out');
    const made = await app.request(imagesPath({ prompt }));
    const key = (made.headers.get('ETag') ?? '').slice(1, -1);
    await caches.default.delete(cacheUrl(CACHE_ORIGIN, key));

    const spelled = percentSpelled(key);
    const fromStore = await app.request(spelled);
    expect(fromStore.status).toBe(200);
    expect(fromStore.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=store');
    expect(fromStore.headers.get('Content-Location')).toBe(`/v1/images/${key}.png`);
    // It warmed the canonical entry, not one under its own spelling.
    expect(await caches.default.match(`${ORIGIN}${spelled}`)).toBeUndefined();
    const plain = await app.request(`/v1/images/${key}.png`);
    expect(plain.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=cache');
  });
});
