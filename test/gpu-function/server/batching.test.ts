// Batching through the real service: concurrent compatible requests run as one pipeline call (seen in
// sd_batch_size) and each gets exactly the bytes it gets alone; incompatible requests never share a
// call even when there is room; and while a batch runs, /ping and /metrics still answer.
// BATCH_TIMEOUT_MS is a minute here, so a batch only runs once full: which requests share a batch
// then depends on the batcher alone, not on how fast this machine sends them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../../contract';
import { generatePng, type InProcessService, startReady, until } from '../../support/gpu-function-service';
import { scrapeMetrics } from '../../support/gpu-function-metrics';

let batched4: InProcessService;
let batched2: InProcessService;
let alone: InProcessService;

beforeAll(async () => {
  [batched4, batched2, alone] = await Promise.all([
    startReady({ MAX_BATCH_SIZE: '4', BATCH_TIMEOUT_MS: '60000' }),
    startReady({ MAX_BATCH_SIZE: '2', BATCH_TIMEOUT_MS: '60000' }),
    startReady({ MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0' }),
  ]);
});
afterAll(() => Promise.all([batched4, batched2, alone].map((gpu) => gpu?.close())));

/** The bytes each request gets from the service that never batches. */
async function unbatchedTwins(requests: readonly GenerateRequest[]): Promise<Buffer[]> {
  const twins: Buffer[] = [];
  for (const request of requests) twins.push(Buffer.from(await generatePng(alone.url, request)));
  return twins;
}

describe('compatible requests', () => {
  it('run as one batch of 4, each equal to its unbatched twin byte for byte', async () => {
    // Same size, steps and scheduler; different prompts, seeds, guidance and negative prompts.
    const requests: GenerateRequest[] = [
      { prompt: 'a red fox in snow', seed: 1, steps: 6, width: 32, height: 48 },
      { prompt: 'a lighthouse at dusk', seed: 2, steps: 6, width: 32, height: 48, guidance: 1 },
      { prompt: 'a bowl of ramen', seed: 3, steps: 6, width: 32, height: 48, guidance: 12, negative_prompt: 'blurry' },
      { prompt: 'a red fox in snow', seed: 4, steps: 6, width: 32, height: 48 },
    ];
    const results = await Promise.all(requests.map((request) => generatePng(batched4.url, request)));

    const metrics = await scrapeMetrics(batched4.url);
    expect(metrics.value('sd_batch_size_count')).toBe(1);
    expect(metrics.bucketCount('sd_batch_size', 4, 3)).toBe(1);
    expect(metrics.value('sd_generations_total')).toBe(4);
    const lines = batched4.logs.filter((line) => line.event === 'request' && line.path === '/v1/generate');
    expect(lines.map((line) => line.batch_size)).toEqual([4, 4, 4, 4]);

    const twins = await unbatchedTwins(requests);
    results.forEach((png, i) => expect(Buffer.from(png).equals(twins[i]!), `request ${i}`).toBe(true));
    // And they are four different pictures.
    expect(new Set(twins.map((twin) => twin.toString('base64'))).size).toBe(4);
  });
});

describe('the batch pixel budget (MAX_BATCH_PIXELS, 16384 here)', () => {
  it('lets a companion join only while the pixels fit: four 96 × 64 run as two batches of two', async () => {
    const before = await scrapeMetrics(batched4.url);
    // 6144 pixels each: two make 12288, a third would make 18432. Each pair is full at once (no third
    // could join), so neither waits out the minute's batch timeout.
    const requests = [1, 2, 3, 4].map((seed): GenerateRequest => ({ prompt: 'wide', seed, steps: 2, width: 96, height: 64 }));
    const results = await Promise.all(requests.map((request) => generatePng(batched4.url, request)));
    const after = await scrapeMetrics(batched4.url);
    expect(after.value('sd_batch_size_count') - before.value('sd_batch_size_count')).toBe(2);
    expect(after.bucketCount('sd_batch_size', 2, 1) - before.bucketCount('sd_batch_size', 2, 1)).toBe(2);
    expect(results).toHaveLength(4);
  });
});

describe('incompatible requests', () => {
  it('never share a batch, even with room in it: A B A B runs as [A A] and [B B]', async () => {
    const before = await scrapeMetrics(batched2.url);
    const a = (seed: number): GenerateRequest => ({ prompt: 'a', seed, steps: 3, width: 32, height: 32 });
    const b = (seed: number): GenerateRequest => ({ prompt: 'b', seed, steps: 3, width: 48, height: 32 });
    const requests = [a(1), b(2), a(3), b(4)];
    // One after another into the queue, so the first A and the first B wait together with room for two.
    const pending: Promise<Uint8Array>[] = [];
    for (const [i, request] of requests.entries()) {
      pending.push(generatePng(batched2.url, request));
      await until(async () => {
        const m = await scrapeMetrics(batched2.url);
        return m.value('sd_queue_depth') + m.value('sd_generations_total') - before.value('sd_generations_total') >= i + 1;
      });
    }
    const results = await Promise.all(pending);

    const after = await scrapeMetrics(batched2.url);
    expect(after.value('sd_batch_size_count') - before.value('sd_batch_size_count')).toBe(2);
    expect(after.bucketCount('sd_batch_size', 2, 1) - before.bucketCount('sd_batch_size', 2, 1)).toBe(2);
    const twins = await unbatchedTwins(requests);
    results.forEach((png, i) => expect(Buffer.from(png).equals(twins[i]!), `request ${i}`).toBe(true));
  });

  it('use different steps or schedulers as different keys too', async () => {
    const before = await scrapeMetrics(batched2.url);
    const requests: GenerateRequest[] = [
      { prompt: 'x', seed: 1, steps: 3, width: 32, height: 32 },
      { prompt: 'x', seed: 1, steps: 4, width: 32, height: 32 },
      { prompt: 'x', seed: 1, steps: 3, width: 32, height: 32, scheduler: 'ddim' },
      { prompt: 'x', seed: 2, steps: 4, width: 32, height: 32 },
      { prompt: 'x', seed: 2, steps: 3, width: 32, height: 32, scheduler: 'ddim' },
      { prompt: 'x', seed: 2, steps: 3, width: 32, height: 32 },
    ];
    await Promise.all(requests.map((request) => generatePng(batched2.url, request)));
    const after = await scrapeMetrics(batched2.url);
    // Three keys, two requests each: three full batches of two.
    expect(after.bucketCount('sd_batch_size', 2, 1) - before.bucketCount('sd_batch_size', 2, 1)).toBe(3);
    expect(after.value('sd_batch_size_count') - before.value('sd_batch_size_count')).toBe(3);
  });
});

describe('responsiveness', () => {
  it('answers /ping and /metrics while a batch runs', async () => {
    let finished = false;
    const long = generatePng(alone.url, { prompt: 'a long one', seed: 9, steps: 100, width: 96, height: 96 }).then((png) => {
      finished = true;
      return png;
    });
    // /metrics answering with a batch running at all shows the event loop is free during generation.
    await until(async () => (await scrapeMetrics(alone.url)).value('sd_batch_running') === 1);
    const ping = await fetch(`${alone.url}/ping`);
    expect(ping.status).toBe(200);
    expect(finished).toBe(false);
    await long;
  });
});
