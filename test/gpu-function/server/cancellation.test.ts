// Abandoned work stops, through the real service over real HTTP (MAX_BATCH_SIZE 1): a client that
// disconnects while its batch runs, or whose deadline passes then, takes its batch down within a
// denoising step — `sd_batch_running` returns to 0, nothing is counted as generated, the cancellation is
// counted and logged — and the queued request behind it runs next. A long "runner" (128×128, 150 steps:
// seconds on the tiny model) gives the test time to act while its batch runs.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { problemSchema } from '../../../contract';
import { decodePng } from '../../support/decode-png';
import { generate, generatePng, type InProcessService, type LogLine, startReady, until } from '../../support/gpu-function-service';
import { believeDeviceFast } from '../../support/believe-device-fast';
import { idleMetrics, type MetricsSnapshot, scrapeMetrics } from '../../support/gpu-function-metrics';

const RUNNER = { prompt: 'runner', steps: 150, width: 128, height: 128 } as const;
/** PNDM (the fixture's scheduler) evaluates the UNet once more than the steps asked. */
const RUNNER_EVALUATIONS = RUNNER.steps + 1;

let gpu: InProcessService;
beforeAll(async () => {
  gpu = await startReady({ MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0' });
});
afterAll(() => gpu.close());

let before: MetricsSnapshot;
beforeEach(async () => {
  before = await idleMetrics(gpu.url);
});


const running = async (): Promise<number> => (await scrapeMetrics(gpu.url)).value('sd_batch_running');

/** The `generation_cancelled` lines logged since `from`. */
const cancelledLines = (from: number): LogLine[] => gpu.logs.slice(from).filter((line) => line.event === 'generation_cancelled');

describe('a client that disconnects while its batch runs', () => {
  it('stops the batch: sd_batch_running back to 0, not generated, counted and logged as cancelled', async () => {
    const logFrom = gpu.logs.length;
    const controller = new AbortController();
    const leaving = generate(gpu.url, { ...RUNNER, seed: 1 }, { signal: controller.signal });
    leaving.catch(() => undefined);
    await until(async () => (await running()) === 1);
    controller.abort();
    await expect(leaving).rejects.toThrow();
    // The test's timeout bounds this wait: the batch would otherwise run its 151 evaluations out.
    await until(async () => (await running()) === 0);

    const after = await scrapeMetrics(gpu.url);
    expect(after.since(before, 'sd_generations_total')).toBe(0);
    expect(after.since(before, 'sd_generations_cancelled_total')).toBe(1);
    expect(after.since(before, 'sd_requests_abandoned_total', { reason: 'client_closed', stage: 'running' })).toBe(1);
    await until(() => cancelledLines(logFrom).length === 1);
    const [line] = cancelledLines(logFrom);
    expect(line).toMatchObject({ level: 'info', images: 1, batch_size: 1, batch_stopped: true });
    // It stopped part-way: fewer evaluations than the batch would have made.
    const [done] = line!.steps_done as number[];
    expect(done).toBeLessThan(RUNNER_EVALUATIONS);
    const request = gpu.logs.find((l) => l.event === 'request' && l.status === 499 && l.seed === 1);
    expect(request).toMatchObject({ abandoned: 'client_closed_running' });
  });

  it('lets the queued request behind it run next', async () => {
    const controller = new AbortController();
    const leaving = generate(gpu.url, { ...RUNNER, seed: 2 }, { signal: controller.signal });
    leaving.catch(() => undefined);
    await until(async () => (await running()) === 1);
    const waiting = generatePng(gpu.url, { prompt: 'next', seed: 3, steps: 2, width: 48, height: 32 });
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_queue_depth') === 1);
    controller.abort();
    expect(decodePng(await waiting).width).toBe(48);
    const after = await scrapeMetrics(gpu.url);
    expect(after.since(before, 'sd_generations_total')).toBe(1);
    expect(after.since(before, 'sd_generations_cancelled_total')).toBe(1);
  });
});

describe('a deadline that passes while the batch runs', () => {
  it('answers 504 and stops the batch; nothing is generated', async () => {
    const logFrom = gpu.logs.length;
    believeDeviceFast(gpu); // else, once measured, it is refused up front (413): deadline.test.ts
    const response = await generate(gpu.url, { ...RUNNER, seed: 4 }, { headers: { 'X-Request-Timeout-Ms': '400' } });
    expect(response.status).toBe(504);
    expect(problemSchema.parse(await response.json()).detail).toBe('No picture within 400 ms (its batch was still running).');
    await until(async () => (await running()) === 0);
    const after = await scrapeMetrics(gpu.url);
    expect(after.since(before, 'sd_generations_total')).toBe(0);
    expect(after.since(before, 'sd_generations_cancelled_total')).toBe(1);
    expect(after.since(before, 'sd_requests_abandoned_total', { reason: 'deadline', stage: 'running' })).toBe(1);
    await until(() => cancelledLines(logFrom).length === 1);
    expect((cancelledLines(logFrom)[0]!.steps_done as number[])[0]).toBeLessThan(RUNNER_EVALUATIONS);
  });
});
