// SIGTERM on the real process: it stops taking work at once (/ping 503, new generations 503 with
// Retry-After), finishes the running and the queued request, answers both, and exits 0; work whose
// client has left is not waited for (its batch stops); when the grace period runs out first, it exits 1
// without waiting for the rest.
import { describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../../contract';
import { DRAINING_RETRY_AFTER_SECONDS } from '../../../gpu-function/server/problems';
import { decodePng } from '../../support/decode-png';
import { generate, generatePng, startChild, until } from '../../support/gpu-function-service';
import { scrapeMetrics } from '../../support/gpu-function-metrics';

const settings = { MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0' };

describe('SIGTERM', () => {
  it('drains running and queued work, refuses new work, then exits 0', async () => {
    const service = await startChild({ ...settings, SHUTDOWN_GRACE_MS: '30000' });
    await service.waitForEvent('ready');
    const running = generatePng(service.url, { prompt: 'running', seed: 1, steps: 100, width: 96, height: 96 });
    await until(async () => (await scrapeMetrics(service.url)).value('sd_batch_running') === 1);
    const queued = generatePng(service.url, { prompt: 'queued', seed: 2, steps: 3, width: 64, height: 32 });
    await until(async () => (await scrapeMetrics(service.url)).value('sd_queue_depth') === 1);

    service.child.kill('SIGTERM');
    await until(async () => (await fetch(`${service.url}/ping`)).status === 503);
    const refused = await generate(service.url, { prompt: 'too late', seed: 3, steps: 1 });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(refused.headers.get('Retry-After')).toBe(String(DRAINING_RETRY_AFTER_SECONDS));
    expect(await refused.json()).toMatchObject({ status: 503, title: 'Shutting down' });
    // Liveness stays up while draining: the platform must not kill what is finishing.
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);

    expect(decodePng(await running).width).toBe(96);
    expect(decodePng(await queued).width).toBe(64);
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.logs.find((line) => line.event === 'stopped')).toMatchObject({ drained: true, abandoned: 0 });
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
  });

  it('does not wait for a batch whose client has left: it stops, the rest drains, exit 0', async () => {
    // The abandoned batch alone would take about 7 s here, well past the 3-second grace period.
    const service = await startChild({ ...settings, SHUTDOWN_GRACE_MS: '3000', MAX_PIXELS: '36864', MAX_BATCH_PIXELS: '36864' });
    await service.waitForEvent('ready');
    const controller = new AbortController();
    const abandoned = generate(service.url, { prompt: 'nobody waits', seed: 1, steps: 150, width: 192, height: 192 }, { signal: controller.signal });
    abandoned.catch(() => undefined);
    await until(async () => (await scrapeMetrics(service.url)).value('sd_batch_running') === 1);
    const queued = generatePng(service.url, { prompt: 'queued', seed: 2, steps: 2, width: 32, height: 32 });
    await until(async () => (await scrapeMetrics(service.url)).value('sd_queue_depth') === 1);

    controller.abort();
    service.child.kill('SIGTERM');
    expect(decodePng(await queued).width).toBe(32);
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.logs.find((line) => line.event === 'stopped')).toMatchObject({ drained: true, abandoned: 0 });
    expect(service.logs.find((line) => line.event === 'generation_cancelled')).toMatchObject({ images: 1, batch_stopped: true });
  });

  it('exits 1 once SHUTDOWN_GRACE_MS has passed, without waiting for the rest', async () => {
    const service = await startChild({ ...settings, SHUTDOWN_GRACE_MS: '100' });
    await service.waitForEvent('ready');
    const running = generate(service.url, { prompt: 'running', seed: 1, steps: 150, width: 128, height: 128 });
    running.catch(() => undefined);
    await until(async () => (await scrapeMetrics(service.url)).value('sd_batch_running') === 1);
    const queued = generate(service.url, { prompt: 'queued', seed: 2, steps: 2, width: 32, height: 32 });
    queued.catch(() => undefined);
    await until(async () => (await scrapeMetrics(service.url)).value('sd_queue_depth') === 1);

    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(1);
    expect(service.logs.find((line) => line.event === 'stopped')).toMatchObject({ drained: false, abandoned: 2 });
    // Neither got a picture: the connections were cut when the process stopped.
    await expect(queued).rejects.toThrow();
  });
});
