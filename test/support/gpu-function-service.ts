// Test helpers that start the real GPU function on the tiny-sd fixture: in-process (the real server
// object on a real loopback port, its log lines captured) or as a real child process (for signals and
// exit codes), plus small HTTP helpers. Settings suit the fixture: sides in multiples of 16 (its UNet
// downsamples once), small defaults, small cost limits (CHEAP_WARM_UP's 128² pictures and batches: the
// tiny UNet's attention at full latent resolution makes large pictures cost far more memory than their
// compute, and start-up warms the largest batch up), the CPU provider, and no Hub access.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { configFromEnv } from '../../gpu-function/config';
import type { GenerateRequest } from '../../contract';
import type { LogLevel } from '../../gpu-function/server/logger';
import { type GpuFunctionService, type StartOptions, startGpuFunction } from '../../gpu-function/server/service';
import { CHEAP_WARM_UP } from './cheap-warm-up';

export const ROOT = join(import.meta.dirname, '../..');
export const TINY_SD = join(ROOT, 'test/fixtures/tiny-sd');

/** Environment for the fixture; each test overrides what it is about. */
export function fixtureEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...CHEAP_WARM_UP,
    MODEL: TINY_SD,
    HOST: '127.0.0.1',
    PORT: '0',
    EXECUTION_PROVIDER: 'cpu',
    INTRA_OP_THREADS: '1',
    MIN_SIDE: '32',
    MAX_SIDE: '256',
    SIDE_MULTIPLE: '16',
    DEFAULT_WIDTH: '32',
    DEFAULT_HEIGHT: '32',
    DEFAULT_STEPS: '4',
    HF_HUB_OFFLINE: '1',
    HF_HOME: mkdtempSync(join(tmpdir(), 'gpu-function-hf-')),
    ...overrides,
  };
}

export interface LogLine {
  readonly time: string;
  readonly level: LogLevel;
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface InProcessService {
  readonly service: GpuFunctionService;
  readonly url: string;
  /** Every log line so far, parsed, and the raw text (to check what must never appear). */
  readonly logs: LogLine[];
  readonly rawLogs: string[];
  close(): Promise<void>;
}

/** Start options besides the environment (the logger is the helper's). */
export type InProcessOptions = Omit<StartOptions, 'log'>;

/** The real service object on a free port; resolves once it listens (the model may still be loading). */
export async function startInProcess(
  overrides: Record<string, string> = {},
  options: InProcessOptions = {},
): Promise<InProcessService> {
  const logs: LogLine[] = [];
  const rawLogs: string[] = [];
  const write = (line: string): void => {
    rawLogs.push(line);
    logs.push(JSON.parse(line) as LogLine);
  };
  const config = configFromEnv(fixtureEnv(overrides));
  const service = await startGpuFunction(config, {
    ...options,
    log: (level, event, fields = {}) => write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })),
  });
  return {
    service,
    url: service.url,
    logs,
    rawLogs,
    async close() {
      await service.ready.catch(() => undefined);
      await service.shutdown(5_000);
    },
  };
}

/** startInProcess, then wait for /ping 200. */
export async function startReady(
  overrides: Record<string, string> = {},
  options: InProcessOptions = {},
): Promise<InProcessService> {
  const started = await startInProcess(overrides, options);
  await started.service.ready;
  return started;
}

export interface ChildService {
  readonly child: ChildProcess;
  readonly url: string;
  readonly logs: LogLine[];
  /** Resolves with the first log line of that event (already logged or still to come). */
  waitForEvent(event: string): Promise<LogLine>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `gpu-function/server/main.ts` in its own Node process (through tsx, as `npm run start:gpu` runs it),
 * resolved once it logged `listening`. Signals go straight to it (no npm in between).
 */
export async function startChild(overrides: Record<string, string> = {}, env = fixtureEnv(overrides)): Promise<ChildService> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gpu-function/server/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters: { event: string; resolve: (line: LogLine) => void }[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (text) => {
      if (!text.startsWith('{')) return; // onnxruntime's own logger, npm's warnings
      const line = JSON.parse(text) as LogLine;
      logs.push(line);
      for (const waiter of waiters.filter((w) => w.event === line.event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    });
  }
  function waitForEvent(event: string): Promise<LogLine> {
    const seen = logs.find((line) => line.event === event);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      waiters.push({ event, resolve });
      void exited.then(({ code }) => reject(new Error(`the service exited (${code}) before logging ${event}: ${JSON.stringify(logs)}`)));
    });
  }
  const listening = await waitForEvent('listening');
  return { child, url: String(listening.url), logs, waitForEvent, exited };
}

/** POST a JSON body (a string is sent as is). */
export function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function generate(baseUrl: string, body: GenerateRequest, init: RequestInit = {}): Promise<Response> {
  return postJson(`${baseUrl}/v1/generate`, body, init);
}

/** A generation's PNG bytes, failing with the problem when the answer is not 200. */
export async function generatePng(baseUrl: string, body: GenerateRequest, init: RequestInit = {}): Promise<Uint8Array> {
  const response = await generate(baseUrl, body, init);
  if (response.status !== 200) throw new Error(`generate answered ${response.status}: ${await response.text()}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Polls until `check` holds (never asserts on time: the test's own timeout bounds the wait). */
export async function until(check: () => Promise<boolean> | boolean, pauseMs = 10): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, pauseMs));
}
