// When the pipeline's worker thread dies (an uncaught error in it), the service says so instead of
// hanging: the request whose batch was running gets a 500 and the log names the cause, the request
// queued behind it a 503 it can retry elsewhere, /ping turns 503 and new work 503, while /healthz stays
// 200 with the phase; the process (main.ts) then drains and exits 1 for its platform to replace it.
// The crash is real: an error thrown inside the worker through the inspector protocol
// (crash-pipeline-worker.ts), between two of its onnxruntime calls — nothing in the service is stubbed,
// and it has no test hook.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../../contract';
import { DRAINING_RETRY_AFTER_SECONDS } from '../../../gpu-function/server/problems';
import {
  fixtureEnv,
  generate,
  type InProcessService,
  type LogLine,
  ROOT,
  startReady,
  until,
} from '../../support/gpu-function-service';
import { scrapeMetrics } from '../../support/gpu-function-metrics';
import { crashPipelineWorkers } from './crash-pipeline-worker';

let gpu: InProcessService;

beforeAll(async () => {
  gpu = await startReady({ MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0' });
});
afterAll(() => gpu?.close());

describe('a crashed pipeline worker', () => {
  it('fails the running batch, refuses the rest, and reports the service failed', async () => {
    const running = generate(gpu.url, { prompt: 'running', seed: 1, steps: 100, width: 96, height: 96 });
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_batch_running') === 1);
    const queued = generate(gpu.url, { prompt: 'queued', seed: 2, steps: 2, width: 32, height: 32 });
    await until(async () => (await scrapeMetrics(gpu.url)).value('sd_queue_depth') === 1);

    await crashPipelineWorkers('injected crash');

    const failed = await running;
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ title: 'Generation failed' });
    const refused = await queued;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(refused.headers.get('Retry-After')).toBe(String(DRAINING_RETRY_AFTER_SECONDS));
    expect(await refused.json()).toMatchObject({ status: 503, title: 'Pipeline unavailable' });

    // The cause is in the log: which batch, how the thread ended, and the worker's own error.
    const generationFailed = gpu.logs.find((line) => line.event === 'generation_failed');
    expect(generationFailed?.error).toBe(
      'PipelineCrashedError: the pipeline worker thread stopped unexpectedly while running a batch of 1 (exit code 1: Error: injected crash)',
    );
    expect(gpu.logs.find((line) => line.event === 'pipeline_failed')).toMatchObject({
      level: 'error',
      error: 'PipelineCrashedError: the pipeline worker thread stopped unexpectedly (exit code 1: Error: injected crash)',
    });
    await expect(gpu.service.failed).resolves.toBeInstanceOf(Error);

    // Unhealthy for the platform: no new work routed here, while liveness still answers.
    const ping = await fetch(`${gpu.url}/ping`);
    expect(ping.status).toBe(503);
    expect(await ping.json()).toEqual({ status: 'failed' });
    const late = await generate(gpu.url, { prompt: 'too late', seed: 3, steps: 1 });
    expect(late.status).toBe(503);
    expect(await late.json()).toMatchObject({ title: 'Pipeline unavailable' });
    const healthz = await fetch(`${gpu.url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'alive', phase: 'failed' });

    // Neither request counts as a generation.
    expect((await scrapeMetrics(gpu.url)).value('sd_generations_total')).toBe(0);
  });
});

describe('the process', () => {
  it('answers what it holds, then exits 1 so that the platform starts a fresh instance', async () => {
    // main.ts as `npm run start:gpu` runs it, plus a preload that crashes the worker on SIGUSR2.
    const preload = join(ROOT, 'test/gpu-function/server/crash-pipeline-on-sigusr2.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', preload, 'gpu-function/server/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...fixtureEnv({ MAX_BATCH_SIZE: '1', BATCH_TIMEOUT_MS: '0' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const logs: LogLine[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (text) => {
        if (text.startsWith('{')) logs.push(JSON.parse(text) as LogLine);
      });
    }
    try {
      await until(() => logs.some((line) => line.event === 'ready'));
      const url = String(logs.find((line) => line.event === 'listening')!.url);
      const running = generate(url, { prompt: 'running', seed: 1, steps: 100, width: 96, height: 96 });
      await until(async () => (await scrapeMetrics(url)).value('sd_batch_running') === 1);
      const queued = generate(url, { prompt: 'queued', seed: 2, steps: 2, width: 32, height: 32 });
      await until(async () => (await scrapeMetrics(url)).value('sd_queue_depth') === 1);

      child.kill('SIGUSR2');
      expect((await running).status).toBe(500);
      expect((await queued).status).toBe(503);
      expect(await exited).toBe(1);
      const events = logs.map((line) => line.event);
      expect(events.indexOf('pipeline_failed')).toBeGreaterThan(events.indexOf('ready'));
      expect(logs.find((line) => line.event === 'shutdown')).toMatchObject({ reason: 'pipeline_failed' });
      expect(logs.find((line) => line.event === 'stopped')).toMatchObject({ drained: true, abandoned: 0 });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
