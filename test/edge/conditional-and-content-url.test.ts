// Revalidation (304), the content URL `/v1/images/<key>.png`, HEAD, CORS preflight and methods.
import { describe, expect, it } from 'vitest';
import { problemSchema } from '../../contract';
import { edgeApp, imagesPath } from './support/edge-app';
import { gpuCalls, uniquePrompt } from './support/gpu-stub';

const app = edgeApp();

async function generated(label: string) {
  const prompt = uniquePrompt(label);
  const res = await app.request(imagesPath({ prompt }));
  expect(res.status).toBe(200);
  const etag = res.headers.get('ETag') ?? '';
  return { prompt, etag, key: etag.slice(1, -1), bytes: new Uint8Array(await res.arrayBuffer()), seed: res.headers.get('X-Seed') };
}

describe('If-None-Match (RFC 9110 §13.1.2)', () => {
  it('answers 304 with the validators and no body when the ETag matches, strong or weak', async () => {
    const { prompt, etag } = await generated('a quiet harbour');
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await app.request(imagesPath({ prompt }), { headers: { 'If-None-Match': ifNoneMatch } });
      expect(res.status, ifNoneMatch).toBe(304);
      expect(res.headers.get('ETag')).toBe(etag);
      expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      expect(res.body).toBeNull();
    }
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });

  it('answers 200 when the ETag does not match', async () => {
    const { prompt, bytes } = await generated('a windmill');
    const res = await app.request(imagesPath({ prompt }), { headers: { 'If-None-Match': `"${'0'.repeat(64)}"` } });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it('generates on a miss even when the client names the key it expects (nothing stored yet)', async () => {
    const prompt = uniquePrompt('an orchard');
    const head = await app.request(imagesPath({ prompt }), { method: 'HEAD' });
    const res = await app.request(imagesPath({ prompt }), { headers: { 'If-None-Match': head.headers.get('ETag') ?? '' } });
    expect(res.status).toBe(200);
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });
});

describe('GET /v1/images/<key>.png', () => {
  it('serves the stored picture by its key with the same headers', async () => {
    const { key, etag, bytes, seed } = await generated('a paper boat');
    const res = await app.request(`/v1/images/${key}.png`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect(res.headers.get('ETag')).toBe(etag);
    expect(res.headers.get('X-Seed')).toBe(seed);
    expect(res.headers.get('Content-Location')).toBe(`/v1/images/${key}.png`);
    expect(res.headers.get('Cache-Status')).toMatch(/^dreamurl; hit/);
    const revalidated = await app.request(`/v1/images/${key}.png`, { headers: { 'If-None-Match': etag } });
    expect(revalidated.status).toBe(304);
  });

  it.each([
    ['a key that is not stored', `/v1/images/${'ab'.repeat(32)}.png`],
    ['63 hex digits', `/v1/images/${'a'.repeat(63)}.png`],
    ['65 hex digits', `/v1/images/${'a'.repeat(65)}.png`],
    ['upper-case hex', `/v1/images/${'A'.repeat(64)}.png`],
    ['not hex', `/v1/images/${'g'.repeat(64)}.png`],
    ['another extension', `/v1/images/${'a'.repeat(64)}.jpg`],
    ['no extension', `/v1/images/${'a'.repeat(64)}`],
    ['a path traversal', '/v1/images/..%2F..%2Fsecrets.png'],
  ])('is a 404 problem for %s', async (_label, path) => {
    const res = await app.request(path);
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(problemSchema.parse(await res.json())).toMatchObject({ status: 404, title: 'Not Found' });
  });
});

describe('HEAD /v1/images', () => {
  it('on a hit: the GET headers with the real length, no body', async () => {
    const { prompt, etag, bytes } = await generated('a lantern');
    const res = await app.request(imagesPath({ prompt }), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('ETag')).toBe(etag);
    expect(res.headers.get('Content-Length')).toBe(String(bytes.byteLength));
    expect(res.headers.get('Cache-Status')).toMatch(/^dreamurl; hit/);
  });

  it('on a miss: never generates; tells the key and seed a GET would give, marked not stored', async () => {
    const prompt = uniquePrompt('a comet');
    const head = await app.request(imagesPath({ prompt }), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss');
    expect(head.headers.get('Cache-Control')).toBe('no-store');
    expect(head.headers.get('Content-Length')).toBeNull();
    expect(await gpuCalls(prompt)).toHaveLength(0);

    const get = await app.request(imagesPath({ prompt }));
    expect(get.headers.get('ETag')).toBe(head.headers.get('ETag'));
    expect(get.headers.get('X-Seed')).toBe(head.headers.get('X-Seed'));
  });
});

describe('methods and CORS', () => {
  it('answers a CORS preflight for the API', async () => {
    const res = await app.request('/v1/images?prompt=x', {
      method: 'OPTIONS',
      headers: { Origin: 'https://blog.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(res.headers.get('Access-Control-Allow-Methods')).toContain('GET');
  });

  it('refuses other methods with 405 and Allow', async () => {
    const res = await app.request('/v1/images?prompt=x', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe('GET, HEAD, OPTIONS');
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  });

  it('answers unknown paths with a 404 problem (GET / belongs to the demo page)', async () => {
    const res = await app.request('/v2/whatever');
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  });
});
