// Back-pressure and abandonment through the real service (MAX_BATCH_SIZE 1, MAX_QUEUE 2): a flood past
// the queue gets 503 + Retry-After and nothing else; a client that disconnects while queued is dropped
// before its batch (sd_generations_total does not count it); a request past its deadline while queued
// gets 504 and is dropped (while its batch runs: cancellation.test.ts).
// A "blocker" (96×96, 100 steps: about a second here) keeps the device busy while the test acts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../../../contract';
import { decodePng } from '../../support/decode-png';
import { generate, generatePng, type InProcessService, startReady, until } from '../../support/gpu-function-service';
import { believeDeviceFast } from '../../support/believe-device-fast';
import { type MetricsSnapshot, scrapeMetrics } from '../../support/gpu-function-metrics';

let gpu: InProcessService;
beforeAll(async () => {
  gpu = await startReady({ MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0', MAX_QUEUE: '2' });
});
afterAll(() => gpu.close());

let before: MetricsSnapshot;
beforeEach(async () => {
  await until(async () => {
    const m = await scrapeMetrics(gpu.url);
    return m.value('sd_batch_running') === 0 && m.value('sd_queue_depth') === 0;
  });
  before = await scrapeMetrics(gpu.url);
});

/** Starts a long generation and resolves once its batch is running (wrapped: an async function would wait for it). */
async function startBlocker(seed = 1): Promise<{ done: Promise<Uint8Array> }> {
  const done = generatePng(gpu.url, { prompt: 'blocker', seed, steps: 100, width: 96, height: 96 });
  await until(async () => (await scrapeMetrics(gpu.url)).value('sd_batch_running') === 1);
  return { done };
}

const delta = (after: MetricsSnapshot, name: string, labels: Record<string, string> = {}): number =>
  after.value(name, labels) - before.value(name, labels);

describe('a full queue', () => {
  it('answers 503 with Retry-After past MAX_QUEUE, and only 200 or 503', async () => {
    const blocker = await startBlocker();
    expect((await scrapeMetrics(gpu.url)).value('sd_batch_running')).toBe(1);
    const flood = await Promise.all(
      Array.from({ length: 10 }, (_, i) => generate(gpu.url, { prompt: 'flood', seed: i, steps: 2, width: 32, height: 32 })),
    );
    const statuses = flood.map((response) => response.status);
    expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(2);
    for (const response of flood) {
      if (response.status === 200) {
        expect(decodePng(new Uint8Array(await response.arrayBuffer())).width).toBe(32);
        continue;
      }
      expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
      // An integer number of seconds (RFC 9110 §10.2.3), estimated from recent throughput.
      expect(response.headers.get('Retry-After')).toMatch(/^[1-9]\d*$/);
      const problem = problemSchema.parse(await response.json());
      expect(problem).toMatchObject({ status: 503, title: 'Queue full', type: 'urn:dreamurl:gpu-function:problem:queue-full' });
      expect(problem.detail).toMatch(/running, 2 waiting \(at most 2\)/);
    }
    await blocker.done;
    const after = await scrapeMetrics(gpu.url);
    const accepted = statuses.filter((status) => status === 200).length;
    expect(delta(after, 'sd_generations_total')).toBe(accepted + 1);
    expect(delta(after, 'http_requests_total', { route: '/v1/generate', status: '503' })).toBe(10 - accepted);
  });
});

describe('a client that disconnects', () => {
  it('is dropped from the queue before its batch starts and never generated', async () => {
    const blocker = await startBlocker(2);
    const controller = new AbortController();
    const leaving = generate(gpu.url, { prompt: 'leaves early', seed: 3, steps: 2, width: 32, height: 32 }, { signal: controller.signal });
    leaving.catch(() => undefined);
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_queue_depth') === 1);
    controller.abort();
    // The server notices the closed connection and takes the request out of the queue at once,
    // while the blocker still runs.
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_queue_depth') === 0);
    const during = await scrapeMetrics(gpu.url);
    expect(during.value('sd_batch_running')).toBe(1);
    await expect(leaving).rejects.toThrow();

    await blocker.done;
    const after = await scrapeMetrics(gpu.url);
    expect(delta(after, 'sd_generations_total')).toBe(1); // the blocker only
    expect(delta(after, 'sd_requests_abandoned_total', { reason: 'client_closed', stage: 'queued' })).toBe(1);
    expect(delta(after, 'http_requests_total', { route: '/v1/generate', status: '499' })).toBe(1);
    const line = gpu.logs.find((l) => l.event === 'request' && l.status === 499);
    expect(line).toMatchObject({ abandoned: 'client_closed_queued', seed: 3 });
  });
});

describe('a deadline', () => {
  it('answers 504 and drops a request still queued when X-Request-Timeout-Ms passes', async () => {
    const blocker = await startBlocker(4);
    believeDeviceFast(gpu); // else it is refused up front (503 behind the blocker): deadline.test.ts
    const response = await generate(
      gpu.url,
      { prompt: 'in a hurry', seed: 5, steps: 2, width: 32, height: 32 },
      { headers: { 'X-Request-Timeout-Ms': '150' } },
    );
    expect(response.status).toBe(504);
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(await response.json()).toMatchObject({
      status: 504,
      title: 'Deadline exceeded',
      detail: 'No picture within 150 ms (it was still queued).',
    });
    const during = await scrapeMetrics(gpu.url);
    expect([during.value('sd_queue_depth'), during.value('sd_batch_running')]).toEqual([0, 1]);
    await blocker.done;
    const after = await scrapeMetrics(gpu.url);
    expect(delta(after, 'sd_generations_total')).toBe(1);
    expect(delta(after, 'sd_requests_abandoned_total', { reason: 'deadline', stage: 'queued' })).toBe(1);
  });
});
