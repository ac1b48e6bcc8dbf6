// POST /v1/generate with Accept: text/event-stream, through the real service on the tiny-sd fixture over
// real HTTP (MAX_BATCH_SIZE 1, MAX_QUEUE 2, heartbeats every 50 ms): the events come in order —
// `queued`, one `step` per scheduler step, `image` with the plain answer's exact bytes and header
// values — a queued request hears when the number ahead of it changes, refusals before admission stay
// plain problems, a deadline after admission is an `error` event, and a client that closes the stream
// cancels its generation exactly as a closed plain request does. The parser reads the real stream cut
// at every byte offset.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EVENT_STREAM_CONTENT_TYPE,
  type GenerateRequest,
  imageEventPng,
  modelInfoSchema,
  type ProgressEvent,
  problemSchema,
  readProgressStream,
} from '../../../contract';
import { believeDeviceFast } from '../../support/believe-device-fast';
import { idleMetrics, type MetricsSnapshot, scrapeMetrics } from '../../support/gpu-function-metrics';
import { generate, generatePng, type InProcessService, startReady, until } from '../../support/gpu-function-service';

const STREAM = { headers: { Accept: EVENT_STREAM_CONTENT_TYPE } } as const;
/** A long batch (seconds on the tiny model) that other requests queue behind. */
const RUNNER = { prompt: 'runner', steps: 150, width: 128, height: 128 } as const;
const HEARTBEAT_MS = 50;

let gpu: InProcessService;
let model: string;
beforeAll(async () => {
  gpu = await startReady({ MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0', MAX_QUEUE: '2' }, { heartbeatMs: HEARTBEAT_MS });
  model = modelInfoSchema.parse(await (await fetch(`${gpu.url}/v1/model`)).json()).model;
});
afterAll(() => gpu.close());

let before: MetricsSnapshot;
beforeEach(async () => {
  before = await idleMetrics(gpu.url);
});
const metric = async (name: string): Promise<number> => (await scrapeMetrics(gpu.url)).value(name);

/** An open progress stream: its events as they come, and every byte received so far. */
interface OpenStream {
  readonly response: Response;
  readonly events: AsyncGenerator<ProgressEvent, void, undefined>;
  readonly bytes: Uint8Array[];
  text(): string;
}

async function openStream(body: GenerateRequest, init: RequestInit = {}): Promise<OpenStream> {
  const headers = { ...(init.headers as Record<string, string> | undefined), ...STREAM.headers };
  const response = await generate(gpu.url, body, { ...init, headers });
  expect(response.status).toBe(200);
  // One branch is read at once, whatever the test is doing, so `text()` shows what has arrived.
  const [recorded, parsed] = response.body!.tee();
  const bytes: Uint8Array[] = [];
  void (async () => {
    for await (const chunk of recorded) bytes.push(chunk);
  })().catch(() => undefined);
  return { response, events: readProgressStream(parsed), bytes, text: () => Buffer.concat(bytes).toString('utf8') };
}

async function collect(events: AsyncIterable<ProgressEvent>): Promise<ProgressEvent[]> {
  const all: ProgressEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

const stepsOf = (events: readonly ProgressEvent[]) => events.flatMap((e) => (e.event === 'step' ? [e.data] : []));
const counting = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('a streamed generation', () => {
  it.each([
    // PNDM (the fixture's own scheduler) takes one more step than asked: its PRK warm-up.
    ['pndm', 4, 5],
    ['euler', 4, 4],
    ['dpmpp_2m', 3, 3],
  ] as const)('with %s and %i steps: queued, steps 1..%i, then the plain answer\'s picture', async (scheduler, steps, count) => {
    const request = { prompt: 'a red fox', seed: 42, steps, width: 48, height: 32, scheduler };
    const stream = await openStream(request);
    expect(stream.response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.response.headers.get('Cache-Control')).toBe('no-store');
    const events = await collect(stream.events);

    expect(events.map((e) => e.event)).toEqual(['queued', ...Array(count).fill('step'), 'image']);
    expect(events[0]).toEqual({ event: 'queued', data: { position: 0, seconds_ahead: 0 } });
    expect(stepsOf(events)).toEqual(counting(count).map((step) => ({ step, steps: count })));
    const image = events.at(-1)!;
    if (image.event !== 'image') throw new Error('no image');
    expect(image.data.seed).toBe('42');
    expect(image.data.model).toBe(model);
    expect(image.data.server_timing).toMatch(/^queue;dur=[\d.]+, tokenize;dur=[\d.]+, .*png;dur=[\d.]+$/);

    const plain = await generate(gpu.url, request);
    const png = new Uint8Array(await plain.arrayBuffer());
    expect(Buffer.from(imageEventPng(image.data)).equals(Buffer.from(png))).toBe(true);
    expect(image.data.seed).toBe(plain.headers.get('X-Seed'));
    expect(image.data.model).toBe(plain.headers.get('X-Model'));

    const after = await scrapeMetrics(gpu.url);
    expect(after.since(before, 'sd_generations_total')).toBe(2);
    expect(after.since(before, 'http_requests_total', { route: '/v1/generate', status: '200' })).toBe(2);
    const line = gpu.logs.findLast((l) => l.event === 'request' && l.stream === true);
    expect(line).toMatchObject({ status: 200, seed: 42, batch_size: 1 });
  });
});

describe('a streamed request that waits', () => {
  it('hears when fewer are ahead, sends heartbeats while quiet, and parses cut at any byte', async () => {
    const runnerLeaves = new AbortController();
    const runner = generate(gpu.url, { ...RUNNER, seed: 1 }, { signal: runnerLeaves.signal });
    runner.catch(() => undefined);
    await until(async () => (await metric('sd_batch_running')) === 1);
    const aheadLeaves = new AbortController();
    const ahead = generate(gpu.url, { prompt: 'ahead', seed: 2, steps: 2 }, { signal: aheadLeaves.signal });
    ahead.catch(() => undefined);
    await until(async () => (await metric('sd_queue_depth')) === 1);

    const stream = await openStream({ prompt: 'waiting', seed: 3, steps: 2, scheduler: 'euler' });
    const first = await stream.events.next();
    expect(first.value).toMatchObject({ event: 'queued', data: { position: 1 } });
    // The warm-up measured a batch, so the wait has an estimate.
    expect((first.value as Extract<ProgressEvent, { event: 'queued' }>).data.seconds_ahead).toEqual(expect.any(Number));

    // Queue full (the runner runs, two wait): refused before admission, a plain problem.
    const refused = await generate(gpu.url, { prompt: 'refused', seed: 4 }, STREAM);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('Content-Type')).toBe('application/problem+json');
    expect(refused.headers.get('Retry-After')).toMatch(/^\d+$/);
    expect(problemSchema.parse(await refused.json()).status).toBe(503);

    // Nothing to say while the runner runs: heartbeats keep the connection alive.
    await until(() => stream.text().includes(': heartbeat\n\n'));
    aheadLeaves.abort();
    const moved = await stream.events.next();
    expect(moved.value).toMatchObject({ event: 'queued', data: { position: 0 } });
    runnerLeaves.abort();
    const rest = await collect(stream.events);
    expect(rest.map((e) => e.event)).toEqual(['step', 'step', 'image']);

    // The same bytes, cut into two chunks at every offset, give the same events.
    const whole = Buffer.concat(stream.bytes);
    const expected = await collect(readProgressStream(chunked([whole])));
    expect(expected.map((e) => e.event)).toEqual(['queued', 'queued', 'step', 'step', 'image']);
    for (let cut = 1; cut < whole.length; cut++) {
      const events = await collect(readProgressStream(chunked([whole.subarray(0, cut), whole.subarray(cut)])));
      expect(events).toEqual(expected);
    }
  });

  it('gets a 504 error event when its deadline passes while it waits', async () => {
    const runnerLeaves = new AbortController();
    const runner = generate(gpu.url, { ...RUNNER, seed: 5 }, { signal: runnerLeaves.signal });
    runner.catch(() => undefined);
    await until(async () => (await metric('sd_batch_running')) === 1);
    believeDeviceFast(gpu); // else it is refused up front (503 behind the runner): deadline.test.ts
    const stream = await openStream({ prompt: 'late', seed: 6 }, { headers: { 'X-Request-Timeout-Ms': '300' } });
    const events = await collect(stream.events);
    runnerLeaves.abort();
    expect(events.map((e) => e.event)).toEqual(['queued', 'error']);
    expect(events[1]).toEqual({
      event: 'error',
      data: expect.objectContaining({ status: 504, detail: 'No picture within 300 ms (it was still queued).' }),
    });
    const after = await scrapeMetrics(gpu.url);
    expect(after.since(before, 'sd_requests_abandoned_total', { reason: 'deadline', stage: 'queued' })).toBe(1);
    await until(() => gpu.logs.some((l) => l.event === 'request' && l.stream === true && l.status === 504 && l.seed === 6));
  });
});

describe('refusals before admission', () => {
  it('are plain problem+json, not streams', async () => {
    const response = await generate(gpu.url, { prompt: 'x', seed: 1, width: 40 } as GenerateRequest, STREAM);
    expect(response.status).toBe(400);
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
    expect(problemSchema.parse(await response.json()).errors?.map((e) => e.param)).toEqual(['width']);
  });
});

describe('a client that closes its stream', () => {
  it('cancels the generation as a closed plain request does', async () => {
    const logFrom = gpu.logs.length;
    const leaves = new AbortController();
    const stream = await openStream({ ...RUNNER, seed: 7 }, { signal: leaves.signal });
    for (let event = await stream.events.next(); event.value?.event !== 'step'; event = await stream.events.next()) {
      if (event.done) throw new Error('the stream ended before a step');
    }
    leaves.abort();
    // The test's timeout bounds this wait: the batch would otherwise run its 151 steps out.
    await until(async () => (await metric('sd_batch_running')) === 0);
    const after = await scrapeMetrics(gpu.url);
    expect(after.since(before, 'sd_generations_total')).toBe(0);
    expect(after.since(before, 'sd_generations_cancelled_total')).toBe(1);
    expect(after.since(before, 'sd_requests_abandoned_total', { reason: 'client_closed', stage: 'running' })).toBe(1);
    await until(() => gpu.logs.slice(logFrom).some((l) => l.event === 'request' && l.seed === 7));
    const line = gpu.logs.slice(logFrom).find((l) => l.event === 'request' && l.seed === 7);
    expect(line).toMatchObject({ status: 499, stream: true, abandoned: 'client_closed_running' });
  });
});

describe('the plain answer', () => {
  it('is unchanged for clients that accept images or anything', async () => {
    for (const accept of ['image/png', '*/*', 'text/event-stream;q=0, image/png']) {
      const response = await generate(gpu.url, { prompt: 'plain', seed: 8, steps: 2 }, { headers: { Accept: accept } });
      expect(response.headers.get('Content-Type')).toBe('image/png');
      expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from(await generatePng(gpu.url, { prompt: 'plain', seed: 8, steps: 2 })));
    }
  });
});

function chunked(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}
