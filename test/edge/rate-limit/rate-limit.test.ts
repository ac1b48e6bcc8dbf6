// Generations are limited per client; cache hits never are. Clients are told apart by API key (when
// API_KEYS is set) or by CF-Connecting-IP. Each test uses its own addresses and keys.
import { describe, expect, it } from 'vitest';
import { problemSchema } from '../../../contract';
import { edgeApp, imagesPath } from '../support/edge-app';
import { gpuCalls, uniquePrompt } from '../support/gpu-stub';

const limited = edgeApp({ RATE_LIMIT_PER_MINUTE: '2' });

function from(ip: string, extra: Record<string, string> = {}): RequestInit {
  return { headers: { 'CF-Connecting-IP': ip, ...extra } };
}

describe('rate limit (RATE_LIMIT_PER_MINUTE=2)', () => {
  it('answers the third miss within a minute with 429, Retry-After and the RateLimit fields', async () => {
    const prompt = uniquePrompt('a busy station');
    const ip = '203.0.113.10';
    const first = await limited.request(imagesPath({ prompt, seed: 1 }), from(ip));
    expect(first.status).toBe(200);
    expect(first.headers.get('RateLimit-Policy')).toBe('"generations";q=2;w=60');
    expect(first.headers.get('RateLimit')).toMatch(/^"generations";r=1;t=(29|30)$/);
    const second = await limited.request(imagesPath({ prompt, seed: 2 }), from(ip));
    expect(second.status).toBe(200);
    expect(second.headers.get('RateLimit')).toMatch(/^"generations";r=0;t=(59|60)$/);

    const third = await limited.request(imagesPath({ prompt, seed: 3 }), from(ip));
    expect(third.status).toBe(429);
    expect(third.headers.get('Content-Type')).toBe('application/problem+json');
    const retryAfter = Number(third.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(29);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(third.headers.get('RateLimit-Policy')).toBe('"generations";q=2;w=60');
    expect(third.headers.get('RateLimit')).toMatch(/^"generations";r=0;t=\d+$/);
    expect(problemSchema.parse(await third.json())).toMatchObject({ status: 429, type: 'urn:dreamurl:problem:rate-limited' });
    expect((await gpuCalls(prompt)).map((c) => c.body.seed)).toEqual([1, 2]);

    // Hits stay free for the limited client, from the cache and by content URL alike.
    const hit = await limited.request(imagesPath({ prompt, seed: 1 }), from(ip));
    expect(hit.status).toBe(200);
    expect(hit.headers.get('Cache-Status')).toMatch(/hit/);
    expect(hit.headers.get('RateLimit')).toBeNull();
    const key = (first.headers.get('ETag') ?? '').slice(1, -1);
    expect((await limited.request(`/v1/images/${key}.png`, from(ip))).status).toBe(200);

    // Another client has its own bucket.
    expect((await limited.request(imagesPath({ prompt, seed: 3 }), from('203.0.113.11'))).status).toBe(200);
  });

  it('is off with RATE_LIMIT_PER_MINUTE=0', async () => {
    const unlimited = edgeApp({ RATE_LIMIT_PER_MINUTE: '0' });
    const prompt = uniquePrompt('an empty station');
    for (let seed = 0; seed < 4; seed++) {
      const res = await unlimited.request(imagesPath({ prompt, seed }), from('203.0.113.20'));
      expect(res.status).toBe(200);
      expect(res.headers.get('RateLimit')).toBeNull();
    }
  });
});

describe('client identity with API_KEYS', () => {
  const keyed = edgeApp({ RATE_LIMIT_PER_MINUTE: '1', API_KEYS: 'key-alpha-1, key-beta-2' });

  it('charges a key, not the address, and accepts Bearer and X-API-Key alike', async () => {
    const prompt = uniquePrompt('a key ring');
    const ip = '203.0.113.30';
    expect((await keyed.request(imagesPath({ prompt, seed: 1 }), from(ip, { Authorization: 'Bearer key-alpha-1' }))).status).toBe(200);
    expect((await keyed.request(imagesPath({ prompt, seed: 2 }), from(ip, { 'X-API-Key': 'key-alpha-1' }))).status).toBe(429);
    // Same address, other key, other bucket; no key, the address's bucket.
    expect((await keyed.request(imagesPath({ prompt, seed: 3 }), from(ip, { 'X-API-Key': 'key-beta-2' }))).status).toBe(200);
    expect((await keyed.request(imagesPath({ prompt, seed: 4 }), from(ip))).status).toBe(200);
  });

  it('refuses an unknown key with 401 and never echoes it', async () => {
    const prompt = uniquePrompt('a lost key');
    const res = await keyed.request(imagesPath({ prompt }), from('203.0.113.31', { Authorization: 'Bearer not-a-real-key' }));
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    const text = await res.text();
    expect(text).not.toContain('not-a-real-key');
    expect(problemSchema.parse(JSON.parse(text)).status).toBe(401);
    expect(await gpuCalls(prompt)).toHaveLength(0);
  });
});
