// GET /v1/progress end to end over real HTTP: wrangler dev (the Worker, its generation Durable Object,
// local R2) in front of the real GPU function on tiny-sd, which streams its progress to the edge.
// What `curl -N '<edge>/v1/progress?…'` prints while a picture is made, read in order; and 20 watchers
// of one picture cost one generation (the GPU function's own sd_generations_total).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAnswer, imageUrl } from '../support/stack-http';
import { startStackEdge, startStackGpu, type StackEdge, type StackGpu } from '../support/stack-processes';

let gpu: StackGpu;
let edge: StackEdge;

beforeAll(async () => {
  gpu = await startStackGpu();
  edge = await startStackEdge(gpu);
});

afterAll(async () => {
  await edge?.stop();
  await gpu?.close();
});

interface ReadEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/**
 * Opens a progress stream: once its headers are here the watcher is attached (the generation's
 * Durable Object registered it before answering). read() gives its events to the end, as `curl -N`
 * prints them: named events in order, comments dropped.
 */
async function open(url: string): Promise<{ read(): Promise<ReadEvent[]> }> {
  const response = await fetch(url);
  return { read: () => readEvents(response) };
}

async function readEvents(response: Response): Promise<ReadEvent[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block !== '' && !block.startsWith(':'))
    .map((block) => ({
      event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message',
      data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as Record<string, unknown>,
    }));
}

/**
 * queued*, then step 1..n (each of n), then done: the order a watcher attached from the start reads.
 */
function expectInOrder(events: readonly ReadEvent[], contentUrl: string): void {
  const names = events.map((e) => e.event).join(' ');
  expect(names).toMatch(/^(queued )*(step )+done$/);
  const steps = events.filter((e) => e.event === 'step').map((e) => e.data);
  const total = (steps[0]?.steps ?? 0) as number;
  expect(steps.map((s) => s.step)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  for (const step of steps) {
    expect(step.steps).toBe(total);
    expect(step.eta_ms).toBeTypeOf('number');
  }
  expect(events.at(-1)?.data).toEqual({ url: contentUrl });
}

describe('GET /v1/progress through the whole stack', () => {
  it('while a picture is made, its progress stream reads queued, every step, then done with the content URL', async () => {
    const params = { prompt: 'a lighthouse, watched', steps: 6 };
    const watcher = await open(imageUrl(edge.url, params).replace('/v1/images?', '/v1/progress?'));
    const picture = await fetchAnswer(imageUrl(edge.url, params));
    expect(picture.status).toBe(200);
    const events = await watcher.read();
    expectInOrder(events, `${edge.url}${picture.headers.get('Content-Location')}`);
    // tiny-sd's scheduler is PNDM, which runs one step more than asked (diffusers' PNDMScheduler).
    expect(events.filter((e) => e.event === 'step').at(-1)?.data).toEqual({ step: 7, steps: 7, eta_ms: 0 });
  });

  it('20 watchers of one new picture cost one generation, and each reads the steps in order', async () => {
    const params = { prompt: 'twenty watchers of one lighthouse', seed: 20 };
    const progressUrl = imageUrl(edge.url, params).replace('/v1/images?', '/v1/progress?');
    const before = await gpu.generations();
    const watchers = await Promise.all(Array.from({ length: 20 }, () => open(progressUrl)));
    const picture = await fetchAnswer(imageUrl(edge.url, params));
    expect(picture.status).toBe(200);
    const contentUrl = `${edge.url}${picture.headers.get('Content-Location')}`;
    for (const events of await Promise.all(watchers.map((w) => w.read()))) expectInOrder(events, contentUrl);
    expect(await gpu.generations()).toBe(before + 1);

    // Stored now: a new watcher is done at once.
    expect(await (await open(progressUrl)).read()).toEqual([{ event: 'done', data: { url: contentUrl } }]);
    expect(await gpu.generations()).toBe(before + 1);
  });
});
