// The edge's GPU client against the real GPU function (tiny-sd, in-process, real HTTP) when the GPU
// function refuses up front what cannot finish within the budget the edge sends (X-Request-Timeout-Ms):
// a picture too long on its own comes back at once as 422 too-long-to-generate, one stuck behind the
// GPU's queue as 503 gpu-unavailable, not waited for. The GPU's estimate is fed with batches of a chosen
// length (one second per 32×32, 2-step picture), so the verdicts do not depend on this machine's speed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemError, type ResolvedGeneration } from '../../contract';
import { THROUGHPUT_WINDOW } from '../../gpu-function/server/batcher/throughput';
import { type GpuTarget, generateOnGpu } from '../../edge/generation/gpu-client';
import { scrapeMetrics } from '../support/gpu-function-metrics';
import { generate, type InProcessService, startReady, until } from '../support/gpu-function-service';

let gpu: InProcessService;
let target: GpuTarget;
const request = (body: Partial<ResolvedGeneration>): ResolvedGeneration =>
  gpu.service.state.model!.params.resolve({ prompt: 'a lighthouse', seed: 7, ...body });

beforeAll(async () => {
  gpu = await startReady({ MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0' });
  const { batcher, identity } = gpu.service.state.model!;
  // Each part of a 32×32, 2-step picture (text encoder, VAE, 3 UNet evaluations) a third of a second: 1 s
  // in all, so 150 steps (151 evaluations) about 17.4 s, past the 10 s budget by far.
  const small = request({ steps: 2, width: 32, height: 32 });
  for (let i = 0; i < THROUGHPUT_WINDOW; i++) batcher.recordThroughput([small], 1000, [1, 1, 1]);
  target = {
    url: gpu.url,
    token: undefined,
    expectedModel: identity.model,
    timeoutMs: 10_000,
    maxRetries: 2,
    retryMaxWaitMs: 1000,
  };
});
afterAll(() => gpu.close());

async function problemOf(running: Promise<unknown>) {
  const error = await running.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProblemError);
  return (error as ProblemError).problem;
}

const generations = async (): Promise<number> => (await scrapeMetrics(gpu.url)).value('sd_generations_total');

describe('the GPU function refusing what outlasts the edge budget', () => {
  it('a picture estimated past the budget on its own: 422 too-long-to-generate at once, nothing generated', async () => {
    const before = await generations();
    const problem = await problemOf(
      generateOnGpu(target, request({ steps: 150, width: 32, height: 32 }), { queued() {}, step() {} }),
    );
    expect(problem).toMatchObject({ status: 422, type: 'urn:dreamurl:problem:too-long-to-generate' });
    expect(problem.errors?.map((e) => e.param)).toEqual(['steps', 'width', 'height']);
    expect(problem.detail).toMatch(
      /10000 ms this service waits for one .* The GPU function: This picture is estimated to take 17\.4 s here/,
    );
    expect(await generations()).toBe(before);
  });

  it('a picture behind a queue longer than the budget: 503 with the GPU Retry-After, not waited for', async () => {
    const leave = new AbortController();
    const runners = [1, 2, 3].map((seed) =>
      generate(gpu.url, { prompt: 'runner', seed, steps: 150, width: 128, height: 128 }, { signal: leave.signal }),
    );
    runners.forEach((p) => p.catch(() => undefined));
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_queue_depth') === 2);
    const refusedBefore = (await scrapeMetrics(gpu.url)).value('http_requests_total', {
      route: '/v1/generate',
      status: '503',
    });
    const problem = await problemOf(generateOnGpu(target, request({ steps: 2, width: 32, height: 32 })));
    leave.abort();
    expect(problem).toMatchObject({ status: 503, type: 'urn:dreamurl:problem:gpu-unavailable' });
    // Seconds of runners ahead (17.4 s each as fed; less once a real one has run and joined the
    // estimate): past GPU_RETRY_MAX_WAIT_MS, so the edge gave up at once, one call, no retry.
    expect(problem.retryAfterSeconds).toBeGreaterThan(1);
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_batch_running') === 0);
    const after = await scrapeMetrics(gpu.url);
    expect(after.value('http_requests_total', { route: '/v1/generate', status: '503' }) - refusedBefore).toBe(1);
  });
});
