// The local stack's real processes, as end-to-end and browser tests run them: the GPU function on the
// tiny-sd fixture and wrangler dev (workerd with local R2, Cache API and Durable Objects), each on a
// free port, started by the same scripts/stack pieces `npm start` uses. Every process gets a small,
// explicit environment (no NODE_ENV=test or VITEST_* leaking into wrangler), its own temporary state,
// and keeps its output so a failing test can show it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ModelInfo } from '../../contract';
import { formatGpuLog } from '../../scripts/stack/console-output';
import { spawnGpuFunction, type GpuFunctionProcess } from '../../scripts/stack/gpu-function-process';
import { profileFromModelInfo, readModelInfo } from '../../edge/generation/gpu-model-profile';
import { spawnWranglerDev, type WranglerDev } from '../../scripts/stack/wrangler-dev';
import { CHEAP_WARM_UP } from './cheap-warm-up';
import { scrapeMetrics } from './gpu-function-metrics';

export const ROOT = join(import.meta.dirname, '../..');
export const TINY_SD = join(ROOT, 'test/fixtures/tiny-sd');

/** What every child needs from our environment, and nothing else. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Output of a child, kept for error messages. */
export class OutputLog {
  readonly lines: string[] = [];
  add(line: string): void {
    this.lines.push(line);
  }
  tail(count = 40): string {
    return this.lines.slice(-count).join('\n');
  }
}

export interface StackGpu {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly info: ModelInfo;
  readonly log: OutputLog;
  /** `sd_generations_total` now. */
  generations(): Promise<number>;
  /** Stops it (SIGTERM, drained). */
  stop(): Promise<void>;
  /** Starts a new process on the same port (the edges keep their GPU_FUNCTION_URL); resolves when warm. */
  restart(): Promise<void>;
  /** Stops it and removes its temporary files. */
  close(): Promise<void>;
}

/**
 * The GPU function on tiny-sd (its dreamurl.json: 64×64, 20 steps), CPU, offline, on a free port, with
 * CHEAP_WARM_UP's 128² cap (these tests ask for 64² pictures; the edge's profile follows the cap).
 */
export async function startStackGpu(token = randomBytes(16).toString('hex')): Promise<StackGpu> {
  const log = new OutputLog();
  const hfHome = mkdtempSync(join(tmpdir(), 'dreamurl-e2e-hf-'));
  const launch = async (port: number): Promise<{ process: GpuFunctionProcess; url: string }> => {
    const child = spawnGpuFunction({
      env: {
        ...baseEnv(),
        ...CHEAP_WARM_UP,
        MODEL: TINY_SD,
        HOST: '127.0.0.1',
        PORT: String(port),
        GPU_FUNCTION_TOKEN: token,
        EXECUTION_PROVIDER: 'cpu',
        INTRA_OP_THREADS: '1',
        HF_HUB_OFFLINE: '1',
        HF_HOME: hfHome,
      },
      onLog: (line) => log.add('event' in line ? formatGpuLog(line) : line.raw),
    });
    try {
      return { process: child, url: await child.ready() };
    } catch (error) {
      child.forceStop();
      throw new Error(`the GPU function did not start: ${String(error)}\n${log.tail()}`);
    }
  };
  let current = await launch(0);
  const url = current.url;
  const port = Number(new URL(url).port);
  const info = await readModelInfo(url, token);
  return {
    url,
    port,
    token,
    info,
    log,
    async generations() {
      return (await scrapeMetrics(url)).value('sd_generations_total');
    },
    async stop() {
      await current.process.stop(10_000);
    },
    async restart() {
      current = await launch(port);
    },
    async close() {
      await current.process.stop(10_000);
      rmSync(hfHome, { recursive: true, force: true });
    },
  };
}

/** What an edge needs to know of its GPU function (the real one, or the GPU stub): where, the token, its model. */
export type StackGpuTarget = Pick<StackGpu, 'url' | 'token' | 'info'>;

export interface StackEdgeOptions {
  /** Worker vars on top of the GPU wiring, e.g. RATE_LIMIT_PER_MINUTE. */
  readonly vars?: Readonly<Record<string, string>>;
  /** Worker secrets on top of GPU_FUNCTION_TOKEN, e.g. URL_SIGNING_KEY. */
  readonly secrets?: Readonly<Record<string, string>>;
}

export interface StackEdge {
  readonly url: string;
  readonly log: OutputLog;
  stop(): Promise<void>;
}

/**
 * wrangler dev wired to `gpu` exactly as `npm start` wires it (its /v1/model as the one profile, the
 * token as a secret), with fresh local state and the rate limit and in-flight cap off unless `vars` turn them on.
 */
export async function startStackEdge(gpu: StackGpuTarget, options: StackEdgeOptions = {}): Promise<StackEdge> {
  const log = new OutputLog();
  const state = mkdtempSync(join(tmpdir(), 'dreamurl-e2e-state-'));
  const edge: WranglerDev = spawnWranglerDev({
    host: '127.0.0.1',
    port: 0,
    inspectorPort: 0,
    persistTo: state,
    vars: {
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_IN_FLIGHT_PER_CLIENT: '0',
      ...options.vars,
      GPU_FUNCTION_URL: gpu.url,
      MODELS: JSON.stringify([profileFromModelInfo(gpu.info)]),
    },
    secrets: { ...options.secrets, GPU_FUNCTION_TOKEN: gpu.token },
    env: { ...baseEnv(), WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true' },
    onLine: (line) => log.add(line),
  });
  let url: string;
  try {
    url = await edge.ready();
  } catch (error) {
    rmSync(state, { recursive: true, force: true });
    throw new Error(`wrangler dev did not start: ${String(error)}\n${log.tail()}`);
  }
  return {
    url,
    log,
    async stop() {
      await edge.stop();
      rmSync(state, { recursive: true, force: true });
    },
  };
}
