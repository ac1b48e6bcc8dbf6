// The GPU function when it is pushed: a SIGTERM while a whole batch runs, a burst of 100 requests
// against a bounded queue, and clients that give up while queued in such a burst. Extends
// test/gpu-function/server/shutdown.test.ts and back-pressure.test.ts (one running request, a flood
// of 10, one leaver) to full batches and a burst, with exact accounting from /metrics.
// A "blocker" (128×128, 150 steps: a few seconds here) holds the device while a test acts; every
// exact count below relies on it still running, which each test checks rather than assumes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, problemSchema, type GenerateRequest } from '../../contract';
import { readModelFolder } from '../../gpu-function/model/model-folder';
import { encodePng } from '../../gpu-function/pipeline/image/encode-png';
import { loadPipeline } from '../../gpu-function/pipeline/load-pipeline';
import { DRAINING_RETRY_AFTER_SECONDS } from '../../gpu-function/server/problems';
import { decodePng } from '../support/decode-png';
import { generate, generatePng, type InProcessService, startChild, startReady, TINY_SD, until } from '../support/gpu-function-service';
import { type MetricsSnapshot, scrapeMetrics } from '../support/gpu-function-metrics';

const BLOCKER: GenerateRequest = { prompt: 'blocker', seed: 1, steps: 150, width: 128, height: 128 };

describe('SIGTERM in the middle of a batch', () => {
  it('finishes the running batch of 4 and the 2 queued requests with their real pictures, refuses new work, exits 0', async () => {
    const service = await startChild({ MAX_BATCH_SIZE: '4', BATCH_TIMEOUT_MS: '1000', SHUTDOWN_GRACE_MS: '60000' });
    await service.waitForEvent('ready');
    const batch = [1, 2, 3, 4].map((seed): GenerateRequest => ({ prompt: `in flight ${seed}`, seed, steps: 60, width: 64, height: 64 }));
    const queued = [5, 6].map((seed): GenerateRequest => ({ prompt: `queued ${seed}`, seed, steps: 2, width: 32, height: 32 }));
    const running = batch.map((body) => generatePng(service.url, body));
    await until(async () => (await scrapeMetrics(service.url)).value('sd_batch_running') === 4);
    const waiting = queued.map((body) => generatePng(service.url, body));
    await until(async () => (await scrapeMetrics(service.url)).value('sd_queue_depth') === 2);

    service.child.kill('SIGTERM');
    await until(async () => (await fetch(`${service.url}/ping`)).status === 503);
    const refused = await generate(service.url, { prompt: 'too late', seed: 9, steps: 1, width: 32, height: 32 });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(refused.headers.get('Retry-After')).toBe(String(DRAINING_RETRY_AFTER_SECONDS));
    expect(problemSchema.parse(await refused.json())).toMatchObject({ status: 503, type: 'urn:dreamurl:gpu-function:problem:shutting-down' });

    // Every request accepted before the signal gets its picture: the very bytes the pipeline makes
    // for it (computed here, in this process, from the same fixture), not a cut-off answer.
    const answers = await Promise.all([...running, ...waiting]);
    const pipeline = await loadPipeline(await readModelFolder(TINY_SD), { provider: 'cpu', intraOpThreads: 1, log: () => {} });
    try {
      for (const [i, body] of [...batch, ...queued].entries()) {
        const [expected] = await pipeline.pipeline.generate([
          { prompt: body.prompt, negative_prompt: '', seed: body.seed, steps: body.steps!, guidance: 7.5, width: body.width!, height: body.height!, scheduler: 'pndm' },
        ]);
        const png = encodePng(expected!.pixels, expected!.width, expected!.height);
        expect(Buffer.from(answers[i]!).equals(Buffer.from(png)), body.prompt).toBe(true);
      }
    } finally {
      await pipeline.release();
    }
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.logs.find((line) => line.event === 'stopped')).toMatchObject({ drained: true, abandoned: 0 });
  }, 120_000);
});

describe('a burst of 100 requests', () => {
  const MAX_QUEUE = 8;
  let gpu: InProcessService;
  let before: MetricsSnapshot;
  beforeAll(async () => {
    gpu = await startReady({ MAX_BATCH_SIZE: '4', BATCH_TIMEOUT_MS: '0', MAX_QUEUE: String(MAX_QUEUE) });
  });
  afterAll(() => gpu?.close());
  beforeEach(async () => {
    await until(async () => {
      const m = await scrapeMetrics(gpu.url);
      return m.value('sd_batch_running') === 0 && m.value('sd_queue_depth') === 0;
    });
    before = await scrapeMetrics(gpu.url);
  });
  const delta = (after: MetricsSnapshot, name: string, labels: Record<string, string> = {}) => after.value(name, labels) - before.value(name, labels);

  /** Starts the blocker and 100 concurrent small requests; resolves once the 503s are back. */
  async function burst(controllers: AbortController[]) {
    const blocker = generatePng(gpu.url, BLOCKER);
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_batch_running') === 1);
    const sent = controllers.map((controller, i) => {
      const body = { prompt: `burst ${i}`, seed: i, steps: 2, width: 32, height: 32 };
      return generate(gpu.url, body, { signal: controller.signal }).then(
        async (response) => ({ i, status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) }),
        (error: unknown) => ({ i, status: 0, headers: new Headers(), bytes: new Uint8Array(), error }),
      );
    });
    const settled = new Map<number, Awaited<(typeof sent)[number]>>();
    for (const answer of sent) void answer.then((a) => settled.set(a.i, a));
    await until(() => settled.size === controllers.length - MAX_QUEUE);
    // The blocker held the device the whole time: exactly MAX_QUEUE requests were taken.
    const during = await scrapeMetrics(gpu.url);
    expect([during.value('sd_batch_running'), during.value('sd_queue_depth')]).toEqual([1, MAX_QUEUE]);
    const refused = [...settled.values()];
    const queuedIds = controllers.map((_, i) => i).filter((i) => !settled.has(i));
    return { blocker, sent, refused, queuedIds };
  }

  function expectQueueFull(answer: { status: number; headers: Headers; bytes: Uint8Array }): void {
    expect(answer.status).toBe(503);
    expect(answer.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(answer.headers.get('Retry-After')).toMatch(/^[1-9]\d*$/);
    const problem = problemSchema.parse(JSON.parse(new TextDecoder().decode(answer.bytes)));
    expect(problem).toMatchObject({ status: 503, type: 'urn:dreamurl:gpu-function:problem:queue-full' });
    expect(problem.detail).toMatch(new RegExp(`${MAX_QUEUE} waiting \\(at most ${MAX_QUEUE}\\)`));
  }

  it('takes MAX_QUEUE of them, answers the other 92 at once with 503 queue-full + Retry-After, and serves every one it took', async () => {
    const { blocker, sent, refused, queuedIds } = await burst(Array.from({ length: 100 }, () => new AbortController()));
    expect(refused).toHaveLength(100 - MAX_QUEUE);
    for (const answer of refused) expectQueueFull(answer);
    await blocker;
    const served = await Promise.all(queuedIds.map((i) => sent[i]!));
    for (const answer of served) {
      expect(answer.status).toBe(200);
      expect(decodePng(answer.bytes)).toMatchObject({ width: 32, height: 32 });
      expect(answer.headers.get('X-Seed')).toBe(String(answer.i));
    }
    const after = await scrapeMetrics(gpu.url);
    expect(delta(after, 'sd_generations_total')).toBe(1 + MAX_QUEUE);
    expect(delta(after, 'http_requests_total', { route: '/v1/generate', status: '503' })).toBe(100 - MAX_QUEUE);
    expect(delta(after, 'http_requests_total', { status: '500' })).toBe(0);
    // Still healthy: probes and a new generation.
    expect((await fetch(`${gpu.url}/ping`)).status).toBe(200);
    expect((await generate(gpu.url, { prompt: 'after the burst', seed: 1, steps: 1, width: 32, height: 32 })).status).toBe(200);
  }, 120_000);

  it('drops the queued clients that disconnect (never generated, counted as 499) and serves the ones that stay', async () => {
    const controllers = Array.from({ length: 100 }, () => new AbortController());
    const { blocker, sent, refused, queuedIds } = await burst(controllers);
    for (const answer of refused) expectQueueFull(answer);
    const leavers = queuedIds.filter((_, k) => k % 2 === 0); // half of the queue gives up
    for (const i of leavers) controllers[i]!.abort();
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_queue_depth') === MAX_QUEUE - leavers.length);
    // They left while the blocker still ran, so none of them can have been generated.
    expect((await scrapeMetrics(gpu.url)).value('sd_batch_running')).toBe(1);

    await blocker;
    for (const i of queuedIds) {
      const answer = await sent[i]!;
      if (leavers.includes(i)) expect(answer.status, `leaver ${i}`).toBe(0); // the client's own abort
      else expect(answer.status, `stayer ${i}`).toBe(200);
    }
    const after = await scrapeMetrics(gpu.url);
    expect(delta(after, 'sd_generations_total')).toBe(1 + MAX_QUEUE - leavers.length);
    expect(delta(after, 'sd_requests_abandoned_total', { reason: 'client_closed', stage: 'queued' })).toBe(leavers.length);
    await until(async () => delta(await scrapeMetrics(gpu.url), 'http_requests_total', { route: '/v1/generate', status: '499' }) === leavers.length);
  }, 120_000);
});
