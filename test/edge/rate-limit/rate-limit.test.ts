// Generations are limited per client; cache hits never are. Clients are told apart by API key (when
// API_KEYS is set) or by CF-Connecting-IP (an IPv6 address by its /64). A generation costs tokens by
// its work relative to the model's default (tiny-sd here: 64×64, 4 steps), and a client has at most
// MAX_IN_FLIGHT_PER_CLIENT generations running. Each test uses its own addresses and keys.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { problemSchema } from '../../../contract';
import { edgeApp, imagesPath } from '../support/edge-app';
import { gpuCalls, setScenario, uniquePrompt } from '../support/gpu-stub';

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

describe('cost: tokens in proportion to the work, relative to the model’s default request', () => {
  const eight = edgeApp({ RATE_LIMIT_PER_MINUTE: '8' });

  it('charges 128×128 four tokens and 8 steps two, and refuses what the rest cannot pay for', async () => {
    const prompt = uniquePrompt('a costly lighthouse');
    const ip = '203.0.113.40';
    const big = await eight.request(imagesPath({ prompt, seed: 1, width: 128, height: 128 }), from(ip));
    expect(big.status).toBe(200);
    expect(big.headers.get('RateLimit')).toMatch(/^"generations";r=4;t=(29|30)$/);
    const longer = await eight.request(imagesPath({ prompt, seed: 2, steps: 8 }), from(ip));
    expect(longer.headers.get('RateLimit')).toMatch(/^"generations";r=2;t=(44|45)$/);
    const refused = await eight.request(imagesPath({ prompt, seed: 3, width: 128, height: 96 }), from(ip)); // 3 tokens
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(7); // 1 more token at 7.5 s each
    expect(Number(refused.headers.get('Retry-After'))).toBeLessThanOrEqual(8);
    expect(problemSchema.parse(await refused.json()).detail).toMatch(/^This generation costs 3 tokens/);
    expect((await eight.request(imagesPath({ prompt, seed: 4 }), from(ip))).status).toBe(200); // 1 token
    expect((await gpuCalls(prompt)).map((c) => c.body.seed)).toEqual([1, 2, 4]);
  });

  it('lets a generation dearer than the whole bucket through on a full bucket, then makes the client wait it out', async () => {
    const two = edgeApp({ RATE_LIMIT_PER_MINUTE: '2' });
    const prompt = uniquePrompt('a huge lighthouse');
    const ip = '203.0.113.41';
    // 256×256 × 50 steps is 200 default requests' work: a 198-token debt at 2 tokens a minute.
    const huge = await two.request(imagesPath({ prompt, width: 256, height: 256, steps: 50 }), from(ip));
    expect(huge.status).toBe(200);
    expect(huge.headers.get('RateLimit')).toMatch(/^"generations";r=0;t=(5999|6000)$/);
    const next = await two.request(imagesPath({ prompt, seed: 1 }), from(ip));
    expect(next.status).toBe(429);
    expect(Number(next.headers.get('Retry-After'))).toBeGreaterThanOrEqual(5969);
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });
});

describe('MAX_IN_FLIGHT_PER_CLIENT', () => {
  it('refuses a client’s next generation with 429 while it has that many running, and admits again after', async () => {
    const capped = edgeApp({ RATE_LIMIT_PER_MINUTE: '0', MAX_IN_FLIGHT_PER_CLIENT: '2' });
    const prompt = uniquePrompt('a crowded lighthouse');
    const ip = '203.0.113.50';
    await setScenario({ prompt, mode: 'slow', delayMs: 1500, times: 2 });
    const running = [1, 2].map((seed) => capped.request(imagesPath({ prompt, seed }), from(ip)));
    while ((await gpuCalls(prompt)).length < 2) await new Promise((resolve) => setTimeout(resolve, 20));

    const third = await capped.request(imagesPath({ prompt, seed: 3 }), from(ip));
    expect(third.status).toBe(429);
    expect(third.headers.get('Retry-After')).toBe('5');
    expect(problemSchema.parse(await third.json())).toMatchObject({ type: 'urn:dreamurl:problem:too-many-in-flight', status: 429 });
    // The same refusal inside an <img>: the SVG error picture, with the status and Retry-After.
    const pictured = await capped.request(imagesPath({ prompt, seed: 5 }), from(ip, { 'Sec-Fetch-Dest': 'image' }));
    expect([pictured.status, pictured.headers.get('Content-Type'), pictured.headers.get('Retry-After')]).toEqual([
      429,
      'image/svg+xml; charset=utf-8',
      '5',
    ]);
    expect(await pictured.text()).toContain('429 Too many generations in flight');
    // Another client is not held up by this one's.
    expect((await capped.request(imagesPath({ prompt, seed: 4 }), from('203.0.113.51'))).status).toBe(200);
    // Hits are never in flight: the third client's picture, read while the two still run.
    expect((await capped.request(imagesPath({ prompt, seed: 4 }), from(ip))).status).toBe(200);

    expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200]);
    expect((await capped.request(imagesPath({ prompt, seed: 3 }), from(ip))).status).toBe(200);
    expect((await gpuCalls(prompt)).map((c) => c.body.seed).sort()).toEqual([1, 2, 3, 4]);
  });

  it('frees the slot of a generation that failed', async () => {
    const one = edgeApp({ RATE_LIMIT_PER_MINUTE: '0', MAX_IN_FLIGHT_PER_CLIENT: '1', GPU_TIMEOUT_MS: '2000' });
    const prompt = uniquePrompt('a failing crowded lighthouse');
    await setScenario({ prompt, mode: 'status', status: 500, times: 1 });
    expect((await one.request(imagesPath({ prompt }), from('203.0.113.52'))).status).toBe(502);
    expect((await one.request(imagesPath({ prompt }), from('203.0.113.52'))).status).toBe(200);
  });
});

describe('IPv6 clients', () => {
  it('share one bucket per /64, and a neighbouring /64 has its own', async () => {
    const one = edgeApp({ RATE_LIMIT_PER_MINUTE: '1' });
    const prompt = uniquePrompt('a lighthouse on a /64');
    expect((await one.request(imagesPath({ prompt, seed: 1 }), from('2001:db8:a:1::1'))).status).toBe(200);
    expect((await one.request(imagesPath({ prompt, seed: 2 }), from('2001:db8:a:1:8d3c:11ff:fe2a:9b01'))).status).toBe(429);
    expect((await one.request(imagesPath({ prompt, seed: 3 }), from('2001:db8:a:2::1'))).status).toBe(200);
  });
});

describe('the rate-limit Durable Object’s storage', () => {
  const stateOf = (clientId: string) =>
    runInDurableObject(env.RATE_LIMITS.getByName(clientId), async (_instance, state) => ({
      keys: [...state.storage.kv.list()].map(([key]) => key),
      alarm: await state.storage.getAlarm(),
    }));

  it('is deleted by its alarm once the bucket is full again, so it does not keep every address ever seen', async () => {
    const sixty = edgeApp({ RATE_LIMIT_PER_MINUTE: '60', MAX_IN_FLIGHT_PER_CLIENT: '2' }); // full again 1 s after one token
    const ip = '198.51.100.77';
    expect((await sixty.request(imagesPath({ prompt: uniquePrompt('a forgotten lighthouse') }), from(ip))).status).toBe(200);
    const stub = env.RATE_LIMITS.getByName(`ip:${ip}`);
    const kept = await stateOf(`ip:${ip}`);
    expect(kept.keys).toEqual(['client']);
    expect(kept.alarm).toBeGreaterThan(Date.now() - 1000);

    // Too early: the bucket is not full yet, so the state stays and the alarm is set again.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const early = await stateOf(`ip:${ip}`);
    expect(early.keys).toEqual(['client']);
    expect(early.alarm).not.toBeNull();

    // Once full, the alarm deletes it (miniflare may already have run it on time; else run it now).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await runDurableObjectAlarm(stub);
    expect(await stateOf(`ip:${ip}`)).toEqual({ keys: [], alarm: null });
  });

  it('is deleted at once when only the in-flight cap is on and the generation is done', async () => {
    const capOnly = edgeApp({ RATE_LIMIT_PER_MINUTE: '0', MAX_IN_FLIGHT_PER_CLIENT: '2' });
    const ip = '198.51.100.78';
    expect((await capOnly.request(imagesPath({ prompt: uniquePrompt('a fleeting lighthouse') }), from(ip))).status).toBe(200);
    expect(await stateOf(`ip:${ip}`)).toEqual({ keys: [], alarm: null });
  });
});
