// The Node edge's in-process limiter over real HTTP: the in-flight cap (also across a HOLD_MS redirect)
// and IPv6 clients by /64, as
// the Worker's Durable Objects do them (test/edge/rate-limit/rate-limit.test.ts). Costs are in the
// contract table, which runs on both.
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

const imagesPath = (params: Record<string, string | number>) =>
  `/v1/images?${Object.entries(params).map(([n, v]) => `${n}=${encodeURIComponent(String(v))}`).join('&')}`;

describe('the Node edge’s rate limiter', () => {
  it('refuses a client’s generation beyond MAX_IN_FLIGHT_PER_CLIENT with 429, and admits again once one is done', async () => {
    const edge = await stack.edge({ RATE_LIMIT_PER_MINUTE: '0', MAX_IN_FLIGHT_PER_CLIENT: '1' });
    const prompt = uniquePrompt('a crowded lighthouse on Node');
    await stack.gpu.setScenario({ prompt, mode: 'slow', delayMs: 1500, times: 1 });
    const running = fetch(`${edge.url}${imagesPath({ prompt, seed: 1 })}`);
    while ((await stack.gpu.calls(prompt)).length < 1) await new Promise((resolve) => setTimeout(resolve, 20));

    const second = await fetch(`${edge.url}${imagesPath({ prompt, seed: 2 })}`);
    expect(second.status).toBe(429);
    expect(second.headers.get('Retry-After')).toBe('5');
    expect(await second.json()).toMatchObject({ type: 'urn:dreamurl:problem:too-many-in-flight' });

    expect((await running).status).toBe(200);
    expect((await fetch(`${edge.url}${imagesPath({ prompt, seed: 2 })}`)).status).toBe(200);
    expect(edge.deps.rateLimiter).toMatchObject({ size: 0 }); // nothing left to remember
  });

  it('keeps a held generation’s slot (HOLD_MS) until the generation ends, not just until its 307', async () => {
    const edge = await stack.edge({ RATE_LIMIT_PER_MINUTE: '0', MAX_IN_FLIGHT_PER_CLIENT: '1', HOLD_MS: '100' });
    const prompt = uniquePrompt('a held lighthouse on Node');
    await stack.gpu.setScenario({ prompt, mode: 'gated', times: 1 });
    const picture = `${edge.url}${imagesPath({ prompt, seed: 1 })}`;
    expect((await fetch(picture, { redirect: 'manual' })).status).toBe(307);
    // Answered, but its generation goes on: the client's one slot is still taken.
    const meanwhile = await fetch(`${edge.url}${imagesPath({ prompt, seed: 2 })}`);
    expect(meanwhile.status).toBe(429);
    expect(await meanwhile.json()).toMatchObject({ type: 'urn:dreamurl:problem:too-many-in-flight' });

    await stack.gpu.openGate(prompt);
    expect((await fetch(picture)).status).toBe(200); // the redirect joins it, needing no slot
    expect((await fetch(`${edge.url}${imagesPath({ prompt, seed: 2 })}`)).status).toBe(200);
    expect((await stack.gpu.calls(prompt)).map((c) => c.body.seed)).toEqual([1, 2]);
  });

  it('charges IPv6 clients by /64 (through a trusted CLIENT_IP_HEADER)', async () => {
    const edge = await stack.edge({ RATE_LIMIT_PER_MINUTE: '1', CLIENT_IP_HEADER: 'X-Real-IP' });
    const prompt = uniquePrompt('a lighthouse on a Node /64');
    const from = (address: string, seed: number) =>
      fetch(`${edge.url}${imagesPath({ prompt, seed })}`, { headers: { 'X-Real-IP': address } }).then((r) => r.status);
    expect(await from('2001:db8:b:1::1', 1)).toBe(200);
    expect(await from('2001:db8:b:1:aaaa::9', 2)).toBe(429);
    expect(await from('2001:db8:b:2::1', 3)).toBe(200);
    expect(await from('::ffff:192.0.2.5', 4)).toBe(200);
    expect(await from('192.0.2.5', 5)).toBe(429); // the same IPv4 client
  });
});
