// Refusing up front what cannot finish by its deadline, through the real service over real HTTP
// (MAX_BATCH_SIZE 1): the estimate is learnt from real batches here (two 64×64, 8-step pictures), and
// the numbers are chosen far apart — a deadline of milliseconds against an estimate of a second or so
// for RUNNER, a deadline halfway (geometrically) between a small picture's estimate and a backlog a
// hundred times longer — so the verdicts do not depend on how fast or loaded the machine is. A request alone longer than its
// X-Request-Timeout-Ms is a 413 at once, nothing generated; one that fits alone but not behind the
// work queued ahead is a 503 with Retry-After; the same request with a deadline of minutes is admitted.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../../../contract';
import { idleMetrics, type MetricsSnapshot, scrapeMetrics } from '../../support/gpu-function-metrics';
import { generate, generatePng, type InProcessService, startReady, until } from '../../support/gpu-function-service';

/** Seconds on the tiny model here (2.6 s measured); estimated from the 64×64 batches at 1-2 s. */
const RUNNER = { prompt: 'runner', steps: 150, width: 128, height: 128 } as const;
/** Tens of milliseconds. */
const SMALL = { prompt: 'small', steps: 2, width: 32, height: 32 } as const;
const STREAM = { Accept: 'text/event-stream' };

let gpu: InProcessService;
beforeAll(async () => {
  gpu = await startReady({ MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0' });
  // The estimate refuses only once it rests on two measured batches (the warm-up is a total only).
  for (const seed of [1, 2]) await generatePng(gpu.url, { prompt: 'measure', seed, steps: 8, width: 64, height: 64 });
});
afterAll(() => gpu.close());

let before: MetricsSnapshot;
beforeEach(async () => {
  before = await idleMetrics(gpu.url);
});

const metric = async (name: string): Promise<number> => (await scrapeMetrics(gpu.url)).value(name);
const requestLine = (seed: number) => gpu.logs.find((l) => l.event === 'request' && l.seed === seed);
const estimatedSeconds = (request: typeof RUNNER | typeof SMALL): number => {
  const model = gpu.service.state.model!;
  return model.batcher.estimate(model.params.resolve({ ...request, seed: 0 }))!.seconds;
};

describe('a request alone longer than its deadline', () => {
  it('is refused at once with 413 naming the estimate and what to lower; nothing is queued or generated', async () => {
    expect(estimatedSeconds(RUNNER)).toBeGreaterThan(0.1); // ten times the deadline below at least
    for (const headers of [{}, STREAM]) {
      const response = await generate(
        gpu.url,
        { ...RUNNER, seed: 3 },
        { headers: { ...headers, 'X-Request-Timeout-Ms': '10' } },
      );
      expect(response.status).toBe(413);
      // A refusal before admission is a plain problem, streamed or not.
      expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
      const problem = problemSchema.parse(await response.json());
      expect(problem).toMatchObject({
        type: 'urn:dreamurl:gpu-function:problem:too-long-for-deadline',
        title: 'Too long for the deadline',
      });
      expect(problem.detail).toMatch(
        /^This picture is estimated to take [\d.]+ s here, longer than its deadline of 10 ms; ask for fewer steps/,
      );
      expect(problem.errors?.map((e) => e.param)).toEqual(['steps', 'width', 'height']);
    }
    const after = await scrapeMetrics(gpu.url);
    expect(after.since(before, 'sd_generations_total')).toBe(0);
    expect(after.since(before, 'sd_generations_cancelled_total')).toBe(0);
    expect(after.since(before, 'sd_requests_abandoned_total', { reason: 'deadline', stage: 'queued' })).toBe(0);
    expect(after.since(before, 'http_requests_total', { route: '/v1/generate', status: '413' })).toBe(2);
    expect([after.value('sd_queue_depth'), after.value('sd_batch_running')]).toEqual([0, 0]);
    await until(() => requestLine(3) !== undefined);
    expect(requestLine(3)).toMatchObject({ status: 413, refused: 'too_long', estimated_ms: expect.any(Number) });
  });
});

describe('a request behind a backlog longer than its deadline', () => {
  it('gets 503 with Retry-After when the queue ahead makes it late, and is admitted with a deadline of minutes', async () => {
    const leave = new AbortController();
    const backlog = [10, 11, 12, 13, 14, 15].map((seed) =>
      generate(gpu.url, { ...RUNNER, seed }, { signal: leave.signal }),
    );
    backlog.forEach((p) => p.catch(() => undefined));
    await until(async () => (await metric('sd_batch_running')) === 1 && (await metric('sd_queue_depth')) === 5);

    // SMALL alone fits (milliseconds); behind five queued runners (seconds), it does not. Here about
    // 14 ms and 8.5 s: a deadline of about 350 ms, 25 times either bound.
    const small = estimatedSeconds(SMALL);
    const queued = 5 * estimatedSeconds(RUNNER);
    expect(queued / small).toBeGreaterThan(100);
    const deadlineMs = String(Math.round(1000 * Math.sqrt(small * queued)));
    const refused = await generate(
      gpu.url,
      { ...SMALL, seed: 20 },
      { headers: { 'X-Request-Timeout-Ms': deadlineMs } },
    );
    expect(refused.status).toBe(503);
    const problem = problemSchema.parse(await refused.json());
    expect(problem).toMatchObject({
      type: 'urn:dreamurl:gpu-function:problem:busy-past-deadline',
      title: 'Busy past the deadline',
    });
    expect(problem.detail).toMatch(
      /^This picture is estimated to take [\d.]+ s behind [\d.]+ s of work already here, longer than its deadline of \d+ ms\.$/,
    );
    await until(() => requestLine(20) !== undefined);
    const line = requestLine(20)!;
    expect(line).toMatchObject({ status: 503, refused: 'backlog' });
    // Retry-After: when that backlog should be done, in whole seconds.
    const backlogSeconds = (line.backlog_ms as number) / 1000;
    expect(backlogSeconds).toBeGreaterThan(queued - 0.001); // the queued runners, and what is left of the running one
    const retryAfter = Number(refused.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(backlogSeconds));
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(backlogSeconds) + 1);

    // The same request with ten minutes to spare joins the queue.
    const admitted = generate(
      gpu.url,
      { ...SMALL, seed: 21 },
      { signal: leave.signal, headers: { 'X-Request-Timeout-Ms': '600000' } },
    );
    admitted.catch(() => undefined);
    await until(async () => (await metric('sd_queue_depth')) === 6);

    leave.abort();
    await until(async () => (await metric('sd_batch_running')) === 0 && (await metric('sd_queue_depth')) === 0);
    const after = await scrapeMetrics(gpu.url);
    expect(after.since(before, 'sd_generations_total')).toBe(0);
    expect(after.since(before, 'http_requests_total', { route: '/v1/generate', status: '503' })).toBe(1);
  });
});
