// Faults between the Node edge and the GPU function over real loopback HTTP (the Node edge on
// @hono/node-server with s3rver, the GPU stub as the fault server), for the faults the contract table
// (test/contract/contract-cases.ts) does not run on Node: a GPU function that is down and comes back
// on the same port, a 503 without Retry-After, a PNG of the wrong size, a slow trickle and an answer
// slower than the budget. Each ends in its documented status (docs/edge-api.md "Errors"), nothing
// is stored in S3 or kept in the LRU, and the next good request for the same URL generates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemSchema } from '../../contract';
import type { NodeEdge } from '../../edge/node/node-edge';
import { CONTRACT_ENVIRONMENTS } from '../contract/contract-environments';
import { uniquePrompt } from '../contract/gpu-stub-control';
import { type NodeStack, startNodeStack } from '../edge-node/support/node-stack';
import type { Scenario } from '../support/gpu-stub-server';

let stack: NodeStack;
let edge: NodeEdge;

beforeAll(async () => {
  stack = await startNodeStack();
  // A 400 ms budget, at most 2 retries waiting at most 2 s (the contract's `impatient` settings).
  edge = await stack.edge(CONTRACT_ENVIRONMENTS.impatient);
});
afterAll(() => stack?.close());

const get = (prompt: string, method = 'GET') => fetch(`${edge.url}/v1/images?prompt=${encodeURIComponent(prompt)}`, { method });

async function keyOf(prompt: string): Promise<string> {
  return ((await get(prompt, 'HEAD')).headers.get('ETag') ?? '').slice(1, -1);
}

async function expectNothingKept(prompt: string, key: string): Promise<void> {
  expect(await edge.deps.store.head(key)).toBeNull();
  expect(await edge.deps.cache.match(`${edge.url}/v1/images/${key}.png`)).toBeNull();
  expect((await get(prompt, 'HEAD')).headers.get('Cache-Status')).toBe('dreamurl; fwd=miss');
}

async function expectProblem(res: Response, status: number, type: string, retryAfter: string | null): Promise<void> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  expect(res.headers.get('Retry-After')).toBe(retryAfter);
  expect(problemSchema.parse(JSON.parse(body))).toMatchObject({ status, type });
}

async function expectNextGoodRequestGenerates(prompt: string, key: string, callsBefore: number): Promise<void> {
  const res = await get(prompt);
  expect(res.status).toBe(200);
  expect(res.headers.get('ETag')).toBe(`"${key}"`);
  expect(res.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
  expect(await stack.gpu.calls(prompt)).toHaveLength(callsBefore + 1);
  expect(await edge.deps.store.head(key)).not.toBeNull();
}

const BAD = 'urn:dreamurl:problem:bad-gpu-response';
const UNAVAILABLE = 'urn:dreamurl:problem:gpu-unavailable';
const TIMEOUT = 'urn:dreamurl:problem:gpu-timeout';

const FAULTS: readonly { label: string; scenario: Omit<Scenario, 'prompt'>; status: number; type: string; retryAfter: string | null }[] = [
  // No Retry-After: the edge assumes 1 s, which does not fit the 400 ms budget, so it answers at once.
  { label: 'a 503 without Retry-After', scenario: { mode: 'status', status: 503 }, status: 503, type: UNAVAILABLE, retryAfter: '1' },
  { label: 'a PNG of the wrong size', scenario: { mode: 'wrong_size' }, status: 502, type: BAD, retryAfter: null },
  { label: 'a body that trickles in, one byte per 50 ms', scenario: { mode: 'trickle', delayMs: 50 }, status: 504, type: TIMEOUT, retryAfter: '10' },
  { label: 'an answer slower than the budget', scenario: { mode: 'slow', delayMs: 2000 }, status: 504, type: TIMEOUT, retryAfter: '10' },
];

describe('GPU faults through the Node edge', () => {
  it.each(FAULTS)('$label → $status, nothing kept, the next good request generates', async ({ scenario, status, type, retryAfter }) => {
    const prompt = uniquePrompt('a faulty lighthouse on Node');
    await stack.gpu.setScenario({ prompt, ...scenario, times: 1 });
    const key = await keyOf(prompt);
    await expectProblem(await get(prompt), status, type, retryAfter);
    expect(await stack.gpu.calls(prompt)).toHaveLength(1);
    await expectNothingKept(prompt, key);
    await expectNextGoodRequestGenerates(prompt, key, 1);
  });

  it('a GPU function that is down (connection refused) → 503 with Retry-After: 10; once it is back on its port, the same URL generates', async () => {
    const prompt = uniquePrompt('a lighthouse while the GPU restarts');
    const key = await keyOf(prompt);
    await stack.stub.refuseConnections();
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        await expectProblem(await get(prompt), 503, UNAVAILABLE, '10');
        await expectNothingKept(prompt, key);
      }
    } finally {
      await stack.stub.acceptConnections();
    }
    expect(await stack.gpu.calls(prompt)).toHaveLength(0);
    await expectNextGoodRequestGenerates(prompt, key, 0);
  });
});
