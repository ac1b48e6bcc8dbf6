// The main thread stays free while a batch runs: the pipeline is on its worker thread, so HTTP is
// answered *during* each network call, not only between two of them. Told by order, never by time:
// a 256×256 generation of 20 steps makes 22 network calls (text encoder, 20 UNet, VAE); with the
// pipeline on the main thread, each sequential probe needs at least one event-loop turn, and the loop
// turns only between those calls — so 100 probes one after another could not all be answered while
// the batch still runs (checked against the code before the worker thread: they were not). Here every
// one of them is, and each /metrics answer itself says the batch was running when it was written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePng, type InProcessService, startReady, until } from '../../support/gpu-function-service';
import { MetricsSnapshot, scrapeMetrics } from '../../support/gpu-function-metrics';

const ROUNDS = 50;

let gpu: InProcessService;

beforeAll(async () => {
  gpu = await startReady({ MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0', MAX_PIXELS: '65536', MAX_BATCH_PIXELS: '65536' });
});
afterAll(() => gpu?.close());

describe('while a batch runs', () => {
  it('answers /ping and /metrics one after another, all before the picture', async () => {
    const events: string[] = [];
    const picture = generatePng(gpu.url, { prompt: 'a slow one', seed: 3, steps: 20, width: 256, height: 256 }).then((png) => {
      events.push('picture');
      return png;
    });
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_batch_running') === 1);

    const running: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const ping = await fetch(`${gpu.url}/ping`);
      expect(ping.status).toBe(200);
      await ping.arrayBuffer();
      events.push('ping');
      const metrics = await fetch(`${gpu.url}/metrics`);
      expect(metrics.status).toBe(200);
      running.push(new MetricsSnapshot(await metrics.text()).value('sd_batch_running'));
      events.push('metrics');
    }

    await picture;
    // Every probe came back before the picture did, and every /metrics saw the batch still running.
    expect(events.indexOf('picture')).toBe(2 * ROUNDS);
    expect(running).toEqual(Array.from({ length: ROUNDS }, () => 1));
  });
});
