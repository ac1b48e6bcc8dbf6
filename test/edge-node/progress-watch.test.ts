// GET /v1/progress on the Node edge over real HTTP (s3rver, the GPU stub speaking the GPU function's
// progress stream): many watchers of one picture share its one generation and its one upstream stream
// and read queued → step → done in order; a watcher that leaves is forgotten at once (no leak); a
// stored picture is `done` at once; a picture nobody makes is an `error` after the wait, with heartbeats
// meanwhile. Workers are covered end to end in test/e2e/progress.test.ts (the real GPU function).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CoalescingGenerator } from '../../edge/generation/image-generator';
import { createS3Client, S3ImageStore } from '../../edge/node/s3/s3-image-store';
import type { NodeEdge } from '../../edge/node/node-edge';
import { uniquePrompt } from '../contract/gpu-stub-control';
import { NODE_STACK_BUCKET, type NodeStack, startNodeStack } from './support/node-stack';

/** vi.waitFor's 1 s is short for 20 connections on a loaded 2-core machine; this only bounds a failure. */
const WAIT = { timeout: 30_000, interval: 20 };

let stack: NodeStack;
let edge: NodeEdge;

beforeAll(async () => {
  stack = await startNodeStack();
  edge = await stack.edge({ RATE_LIMIT_PER_MINUTE: '0' });
});

afterAll(async () => {
  await stack?.close();
});

interface ReadEvent {
  readonly event: string;
  readonly data: unknown;
}

/** The events of a server-sent event stream until it ends (comments kept as `comment` events). */
async function readEvents(response: Response): Promise<ReadEvent[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
  expect(response.headers.get('Cache-Control')).toBe('no-store');
  return parseEvents(await response.text());
}

function parseEvents(text: string): ReadEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      if (block.startsWith(':')) return { event: 'comment', data: block.slice(1).trim() };
      const name = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return { event: name, data: JSON.parse(data) as unknown };
    });
}

const query = (prompt: string, extra = '') => `prompt=${encodeURIComponent(prompt)}&steps=4${extra}`;

/** The picture's content key, from a HEAD (which never generates). */
async function keyOf(prompt: string): Promise<string> {
  const head = await fetch(`${edge.url}/v1/images?${query(prompt)}`, { method: 'HEAD' });
  return (head.headers.get('ETag') ?? '').slice(1, -1);
}

describe('GET /v1/progress on the Node edge', () => {
  it('20 watchers of one new picture: one generation and one upstream stream; each reads queued, steps, done in order', async () => {
    const prompt = uniquePrompt('twenty watchers');
    await stack.gpu.setScenario({ prompt, mode: 'progress', delayMs: 600 });
    const key = await keyOf(prompt);

    const watchers = Array.from({ length: 20 }, () => fetch(`${edge.url}/v1/progress?${query(prompt)}`).then(readEvents));
    // Every watcher is waiting for the generation before the picture's request starts it.
    await vi.waitFor(() => expect(edge.deps.generator.watching(key)).toBe(20), WAIT);
    const picture = await fetch(`${edge.url}/v1/images?${query(prompt)}`);
    expect(picture.status).toBe(200);
    await picture.arrayBuffer();

    const url = `${edge.url}/v1/images/${key}.png`;
    for (const events of await Promise.all(watchers)) {
      const named = events.filter((e) => e.event !== 'comment');
      expect(named.map((e) => e.event)).toEqual(['queued', 'queued', 'step', 'step', 'step', 'step', 'done']);
      expect(named.slice(0, 2).map((e) => e.data)).toEqual([{ position: 1 }, { position: 0 }]);
      const steps = named.slice(2, 6).map((e) => e.data as { step: number; steps: number; eta_ms: number });
      expect(steps.map(({ step, steps }) => [step, steps])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
      for (const step of steps) expect(step.eta_ms).toBeGreaterThanOrEqual(0);
      expect(steps.at(-1)?.eta_ms).toBe(0);
      expect(named.at(-1)?.data).toEqual({ url });
    }
    // One GPU call, and it asked for the progress stream: one upstream stream for all 20.
    const calls = await stack.gpu.calls(prompt);
    expect(calls.map((call) => call.accept)).toEqual(['text/event-stream, image/png;q=0.5']);
    expect(edge.deps.generator.watching(key)).toBe(0);
  });

  it('a watcher that leaves is forgotten at once, waiting or attached; the others still get done', async () => {
    const prompt = uniquePrompt('watchers that leave');
    await stack.gpu.setScenario({ prompt, mode: 'gated' });
    const key = await keyOf(prompt);
    const leaving = Array.from({ length: 3 }, () => new AbortController());
    const open = (signal?: AbortSignal) => fetch(`${edge.url}/v1/progress?${query(prompt)}`, { signal });

    // Waiting for a start: one leaves.
    const early = await open(leaving[0]?.signal);
    await vi.waitFor(() => expect(edge.deps.generator.watching(key)).toBe(1), WAIT);
    leaving[0]?.abort();
    await early.body?.cancel().catch(() => undefined);
    await vi.waitFor(() => expect(edge.deps.generator.watching(key)).toBe(0), WAIT);

    // Attached to the generation in flight: two of four leave.
    const picture = fetch(`${edge.url}/v1/images?${query(prompt)}`);
    await vi.waitFor(async () => expect(await stack.gpu.calls(prompt)).toHaveLength(1), WAIT);
    const staying = [open(), open()];
    const gone = [open(leaving[1]?.signal), open(leaving[2]?.signal)];
    await vi.waitFor(() => expect(edge.deps.generator.watching(key)).toBe(4), WAIT);
    for (const controller of leaving.slice(1)) controller.abort();
    await Promise.allSettled(gone);
    await vi.waitFor(() => expect(edge.deps.generator.watching(key)).toBe(2), WAIT);

    await stack.gpu.openGate(prompt);
    expect((await picture).status).toBe(200);
    for (const events of await Promise.all(staying.map((s) => s.then(readEvents)))) {
      expect(events.filter((e) => e.event !== 'comment').map((e) => e.event)).toEqual(['done']);
    }
    expect(edge.deps.generator.watching(key)).toBe(0);
  });

  it('a stored picture is done at once, without a generation', async () => {
    const prompt = uniquePrompt('already stored');
    const picture = await fetch(`${edge.url}/v1/images?${query(prompt)}`);
    expect(picture.status).toBe(200);
    await picture.arrayBuffer();
    const events = await readEvents(await fetch(`${edge.url}/v1/progress?${query(prompt)}`));
    expect(events).toEqual([{ event: 'done', data: { url: `${edge.url}${picture.headers.get('Content-Location')}` } }]);
    expect(await stack.gpu.calls(prompt)).toHaveLength(1);
  });

  it('the same validation as /v1/images: a bad parameter is a 400 problem naming it; seed=random is refused', async () => {
    const bad = await fetch(`${edge.url}/v1/progress?prompt=x&steps=0`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('Content-Type')).toBe('application/problem+json');
    expect(((await bad.json()) as { errors: { param: string }[] }).errors.map((e) => e.param)).toEqual(['steps']);
    const random = await fetch(`${edge.url}/v1/progress?prompt=x&seed=random`);
    expect(random.status).toBe(400);
    expect(((await random.json()) as { errors: { param: string }[] }).errors.map((e) => e.param)).toEqual(['seed']);
  });
});

describe('watching with nothing in flight', () => {
  it('heartbeats while it waits for a start, then an error event naming the problem; nothing is left waiting', async () => {
    const s3 = createS3Client(stack.s3.settings(NODE_STACK_BUCKET));
    try {
      const generator = new CoalescingGenerator(new S3ImageStore(s3, NODE_STACK_BUCKET), { heartbeatMs: 40 });
      const key = 'f'.repeat(64);
      const stream = await generator.watch(key, { url: 'http://edge.test/v1/images/x.png', waitMs: 300 });
      const events = parseEvents(await new Response(stream).text());
      expect(events[0]).toEqual({ event: 'comment', data: 'watching' });
      expect(events.filter((e) => e.event === 'comment' && e.data === 'heartbeat').length).toBeGreaterThanOrEqual(1);
      expect(events.at(-1)).toEqual({
        event: 'error',
        data: expect.objectContaining({ type: 'urn:dreamurl:problem:nothing-in-flight', status: 404 }),
      });
      expect(generator.watching(key)).toBe(0);
    } finally {
      s3.destroy();
    }
  });
});
