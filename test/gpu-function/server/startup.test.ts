// Start-up of the real process (`gpu-function/server/main.ts`, as `npm run start:gpu` runs it): it
// listens at once, /ping says 204 while the model loads and warms up and 200 once it is warm, /healthz
// is 200 throughout, the work routes answer 503 + Retry-After until then, and a process that cannot
// start says why and exits non-zero.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, modelInfoSchema } from '../../../contract';
import { LOADING_RETRY_AFTER_SECONDS } from '../../../gpu-function/server/problems';
import { fixtureEnv, postJson, ROOT, startChild, TINY_SD } from '../../support/gpu-function-service';
import { scrapeMetrics } from '../../support/gpu-function-metrics';

describe('warm-up', () => {
  it('answers 204 on /ping while loading and warming up, then 200; work waits with 503 until then', async () => {
    // A longer warm-up (40 steps at 64×64) widens the window in which the model is loaded but not warm;
    // with 64² as the largest picture and batch, that is its only run (warm-up.test.ts has the plan).
    const service = await startChild({
      WARMUP_STEPS: '40',
      DEFAULT_WIDTH: '64',
      DEFAULT_HEIGHT: '64',
      MAX_PIXELS: String(64 * 64),
      MAX_BATCH_PIXELS: String(64 * 64),
    });
    try {
      const pings: number[] = [];
      const early: Response[] = [];
      for (;;) {
        const ping = await fetch(`${service.url}/ping`);
        pings.push(ping.status);
        if (ping.status === 200) break;
        expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
        if (early.length === 0) {
          early.push(
            await postJson(`${service.url}/v1/generate`, { prompt: 'too soon', seed: 1 }),
            await postJson(`${service.url}/v1/tokenize`, { prompt: 'too soon' }),
            await fetch(`${service.url}/v1/model`),
          );
        }
      }
      // 204 first, then 200 only once; never 200 before the warm-up ended.
      expect(pings[0]).toBe(204);
      expect(pings.slice(0, -1).every((status) => status === 204)).toBe(true);
      const warmedUp = service.logs.findIndex((line) => line.event === 'warmed_up');
      const ready = service.logs.findIndex((line) => line.event === 'ready');
      expect(warmedUp).toBeGreaterThan(-1);
      expect(ready).toBeGreaterThan(warmedUp);
      expect(service.logs[warmedUp]).toMatchObject({ width: 64, height: 64, batch: 1, steps: 40 });

      for (const response of early) {
        expect(response.status).toBe(503);
        expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
        expect(response.headers.get('Retry-After')).toBe(String(LOADING_RETRY_AFTER_SECONDS));
        expect(await response.json()).toMatchObject({ status: 503, title: 'Model loading' });
      }

      // Ready: the model answers, and start-up time is on /metrics.
      const info = modelInfoSchema.parse(await (await fetch(`${service.url}/v1/model`)).json());
      expect(info.id).toBe('tiny-sd');
      expect(info.model).toBe(`tiny-sd@${info.revision}`);
      expect(info.revision).toMatch(/^local-[0-9a-f]{12}$/);
      const metrics = await scrapeMetrics(service.url);
      expect(metrics.value('sd_startup_seconds')).toBeGreaterThan(0);
      // The warm-up is not a generation anyone asked for.
      expect(metrics.value('sd_generations_total')).toBe(0);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});

describe('failing to start', () => {
  it('exits 1 and logs startup_failed, naming the folder, when the model cannot be loaded', async () => {
    const service = await startChild({ MODEL: `${TINY_SD}-missing` });
    const failed = await service.waitForEvent('startup_failed');
    expect(String(failed.error)).toContain('tiny-sd-missing');
    expect((await service.exited).code).toBe(1);
  });

  /** main.ts with a configuration it must refuse: its exit code, its output and the variables it named. */
  async function startRefused(overrides: Record<string, string>): Promise<{ code: number | null; output: string; named: string[] }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gpu-function/server/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...fixtureEnv(overrides) },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const line = output.split('\n').find((l) => l.includes('invalid_config'));
    const named = line === undefined ? [] : (JSON.parse(line) as { problems: string[] }).problems.map((p) => p.split(':')[0]!);
    return { code, output, named };
  }

  it('exits 2 and names the bad variables (never their values) when the configuration is invalid', async () => {
    const { code, output, named } = await startRefused({ PORT: 'eighty', GPU_FUNCTION_TOKEN: 'hunter2', MAX_BATCH_SIZE: '0' });
    expect(code).toBe(2);
    expect(named).toEqual(['PORT', 'MAX_BATCH_SIZE']);
    expect(output).not.toContain('hunter2');
  });

  it('exits 2 rather than listen on every interface without a token, or with a blank one', async () => {
    const open = await startRefused({ HOST: '0.0.0.0' });
    expect([open.code, open.named]).toEqual([2, ['HOST']]);
    expect(open.output).toContain('ALLOW_UNAUTHENTICATED=1');
    const blank = await startRefused({ GPU_FUNCTION_TOKEN: ' ' });
    expect([blank.code, blank.named]).toEqual([2, ['GPU_FUNCTION_TOKEN']]);
  });
});

describe('LISTEN_WHEN_READY', () => {
  it('opens the port only once the model is warm: the first /ping is already 200', async () => {
    const service = await startChild({ LISTEN_WHEN_READY: '1', WARMUP_STEPS: '20' });
    try {
      const listening = service.logs.findIndex((line) => line.event === 'listening');
      expect(service.logs.findIndex((line) => line.event === 'ready')).toBeLessThan(listening);
      expect((await fetch(`${service.url}/ping`)).status).toBe(200);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});
