// GET /metrics moves as the service works: images, batches and their sizes, the time of every stage,
// the queue depth, requests by route and status — and starts from zero after the warm-up.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STAGES } from '../../../gpu-function/server/metrics';
import { generatePng, type InProcessService, postJson, startReady } from '../../support/gpu-function-service';
import { scrapeMetrics } from '../../support/gpu-function-metrics';

let gpu: InProcessService;
beforeAll(async () => {
  gpu = await startReady({ MAX_BATCH_SIZE: '2', BATCH_TIMEOUT_MS: '60000' });
});
afterAll(() => gpu.close());

it('is Prometheus text with the documented metrics (docs/gpu-function.md), all at rest after start-up', async () => {
  const response = await fetch(`${gpu.url}/metrics`);
  expect(response.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await response.text();
  for (const name of ['sd_generations_total', 'sd_batch_size', 'sd_queue_depth', 'sd_stage_seconds']) {
    expect(text).toContain(`# TYPE ${name} `);
  }
  const metrics = await scrapeMetrics(gpu.url);
  expect(metrics.value('sd_generations_total')).toBe(0);
  expect(metrics.value('sd_batch_size_count')).toBe(0);
  expect(metrics.value('sd_queue_depth')).toBe(0);
  expect(metrics.value('sd_batch_running')).toBe(0);
  for (const stage of STAGES) expect(metrics.value('sd_stage_seconds_count', { stage })).toBe(0);
  expect(metrics.value('sd_startup_seconds')).toBeGreaterThan(0);
  // Node's own process metrics come along (event-loop lag shows a blocked main thread).
  expect(metrics.value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
});

it('counts images, batches, stage times, queue depth and requests as they happen', async () => {
  const before = await scrapeMetrics(gpu.url);
  // One request alone waits for a companion (a one-minute batch timeout): it shows in the queue.
  const first = generatePng(gpu.url, { prompt: 'one', seed: 1, steps: 2, width: 32, height: 32 });
  let queued = await scrapeMetrics(gpu.url);
  while (queued.value('sd_queue_depth') === 0) queued = await scrapeMetrics(gpu.url);
  expect(queued.value('sd_queue_depth')).toBe(1);
  // Its companion fills the batch of two; then a second full batch of another size.
  const rest = [
    generatePng(gpu.url, { prompt: 'two', seed: 2, steps: 2, width: 32, height: 32 }),
    generatePng(gpu.url, { prompt: 'three', seed: 3, steps: 2, width: 48, height: 32 }),
    generatePng(gpu.url, { prompt: 'four', seed: 4, steps: 2, width: 48, height: 32 }),
  ];
  await Promise.all([first, ...rest]);
  expect((await postJson(`${gpu.url}/v1/generate`, { prompt: 'x', seed: -1 })).status).toBe(400);
  expect((await postJson(`${gpu.url}/v1/tokenize`, { prompt: 'x' })).status).toBe(200);

  const after = await scrapeMetrics(gpu.url);
  const delta = (name: string, labels: Record<string, string> = {}): number => after.value(name, labels) - before.value(name, labels);
  expect(delta('sd_generations_total')).toBe(4);
  expect(delta('sd_batch_size_count')).toBe(2);
  expect(delta('sd_batch_size_sum')).toBe(4);
  expect(after.bucketCount('sd_batch_size', 2, 1)).toBe(2);
  expect(after.value('sd_queue_depth')).toBe(0);
  // Queue and PNG time once per request (each picture is encoded after its batch); pipeline stages once per batch.
  expect(delta('sd_stage_seconds_count', { stage: 'queue' })).toBe(4);
  expect(delta('sd_stage_seconds_count', { stage: 'png' })).toBe(4);
  for (const stage of ['tokenize', 'text_encoder', 'denoise', 'vae']) {
    expect(delta('sd_stage_seconds_count', { stage }), stage).toBe(2);
  }
  expect(delta('sd_stage_seconds_sum', { stage: 'denoise' })).toBeGreaterThan(0);
  // The lone first request waited for its companion: its queue time is in the histogram.
  expect(delta('sd_stage_seconds_sum', { stage: 'queue' })).toBeGreaterThan(0);
  expect(delta('http_requests_total', { route: '/v1/generate', method: 'POST', status: '200' })).toBe(4);
  expect(delta('http_requests_total', { route: '/v1/generate', method: 'POST', status: '400' })).toBe(1);
  expect(delta('http_requests_total', { route: '/v1/tokenize', method: 'POST', status: '200' })).toBe(1);
  expect(delta('http_requests_total', { route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(2);
});
