// The read path a page author relies on: the first request generates, every repeat is a hit with
// the same bytes and headers that let browsers and CDNs keep the picture for good.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CACHE_ORIGIN } from '../../edge/config';
import { edgeApp, imagesPath } from './support/edge-app';
import { gpuCalls, uniquePrompt } from './support/gpu-stub';

const app = edgeApp();

describe('GET /v1/images', () => {
  it('generates on a miss, then serves identical bytes from the cache without another GPU call', async () => {
    const prompt = uniquePrompt('a lighthouse at dusk');
    const first = await app.request(imagesPath({ prompt }));
    expect(first.status).toBe(200);
    expect(first.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
    const firstBytes = new Uint8Array(await first.arrayBuffer());

    const second = await app.request(imagesPath({ prompt }));
    expect(second.status).toBe(200);
    expect(second.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=cache');
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(firstBytes);
    expect(await gpuCalls(prompt)).toHaveLength(1);

    for (const res of [first, second]) {
      const etag = res.headers.get('ETag') ?? '';
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
      expect(res.headers.get('Content-Type')).toBe('image/png');
      expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('Content-Location')).toBe(`/v1/images/${etag.slice(1, -1)}.png`);
      expect(res.headers.get('Content-Length')).toBe(String(firstBytes.byteLength));
      expect(res.headers.get('X-Seed')).toMatch(/^[0-9]+$/);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(res.headers.get('Cross-Origin-Resource-Policy')).toBe('cross-origin');
    }
    expect(second.headers.get('ETag')).toBe(first.headers.get('ETag'));
    expect(second.headers.get('X-Seed')).toBe(first.headers.get('X-Seed'));
  });

  it('stores the picture in R2 under images/<key>.png with the request as metadata', async () => {
    const prompt = uniquePrompt('a red bicycle');
    const res = await app.request(imagesPath({ prompt, steps: 7 }));
    const key = (res.headers.get('ETag') ?? '').slice(1, -1);
    const object = await env.IMAGES.get(`images/${key}.png`);
    expect(object).not.toBeNull();
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(new Uint8Array(await res.arrayBuffer()));
    expect(object!.httpMetadata?.contentType).toBe('image/png');
    expect(object!.customMetadata).toMatchObject({
      model: 'tiny-sd',
      prompt,
      negative_prompt: '',
      steps: '7',
      seed: res.headers.get('X-Seed'),
      scheduler: 'pndm',
      width: '64',
      height: '64',
      guidance: '7.5',
    });
  });

  it('serves from R2 when the Cache API has forgotten the picture, and warms the cache again', async () => {
    const prompt = uniquePrompt('an evicted lighthouse');
    const first = await app.request(imagesPath({ prompt }));
    const bytes = new Uint8Array(await first.arrayBuffer());
    const contentUrl = `${CACHE_ORIGIN}${first.headers.get('Content-Location')}`;
    expect(await caches.default.delete(contentUrl)).toBe(true);

    const fromStore = await app.request(imagesPath({ prompt }));
    expect(fromStore.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=store');
    expect(fromStore.headers.get('X-Seed')).toBe(first.headers.get('X-Seed'));
    expect(new Uint8Array(await fromStore.arrayBuffer())).toEqual(bytes);

    const warmed = await app.request(imagesPath({ prompt }));
    expect(warmed.headers.get('Cache-Status')).toBe('dreamurl; hit; detail=cache');
    expect(new Uint8Array(await warmed.arrayBuffer())).toEqual(bytes);
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });

  it('keeps the scalar request fields as metadata when the prompts do not fit R2’s 2 KiB', async () => {
    const prompt = uniquePrompt('é'.repeat(900));
    const res = await app.request(imagesPath({ prompt, negative_prompt: 'ü'.repeat(1000) }));
    expect(res.status).toBe(200);
    const key = (res.headers.get('ETag') ?? '').slice(1, -1);
    const head = await env.IMAGES.head(`images/${key}.png`);
    expect(head?.customMetadata).toMatchObject({ seed: res.headers.get('X-Seed'), steps: '4', model: 'tiny-sd' });
    expect(head?.customMetadata?.prompt).toBeUndefined();
  });
});
