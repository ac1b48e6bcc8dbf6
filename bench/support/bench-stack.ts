// The pieces the edge benches share: the real edge Worker in local workerd beside the baseline Worker
// (same R2 bucket, each on its own socket), fed by a GPU stub and/or the real GPU function on the
// tiny-sd fixture, plus a closed-loop load run with autocannon that keeps every latency sample.
import { join } from 'node:path';
import autocannon, { type AutocannonRequest } from 'autocannon';
import { configFromEnv } from '../../gpu-function/config';
import { modelInfoSchema, type ModelInfo } from '../../contract';
import { type GpuFunctionService, startGpuFunction } from '../../gpu-function/server/service';
import { startWorkerdEdge, type WorkerdEdge } from '../../test/support/workerd-edge';
import { percentile } from './stats';

export const ROOT = join(import.meta.dirname, '../..');
export const BASELINE_WORKER = 'bench/support/baseline-worker.js';

export interface ModelProfileInit {
  readonly name: string;
  readonly repo: string;
  readonly revision: string;
  readonly default?: boolean;
  readonly gpu_function_url?: string;
  readonly defaults: { steps: number; guidance: number; scheduler: string; width: number; height: number };
  readonly limits: { min_side: number; max_side: number; side_multiple: number; max_steps: number };
}

/** The edge in workerd, with the baseline Worker (and the edge's cache-off twin) beside it, rate limit and in-flight cap off. */
export function startBenchEdge(gpuFunctionUrl: string, models: readonly ModelProfileInit[]): Promise<WorkerdEdge> {
  return startWorkerdEdge({
    vars: { GPU_FUNCTION_URL: gpuFunctionUrl, RATE_LIMIT_PER_MINUTE: '0', MAX_IN_FLIGHT_PER_CLIENT: '0', MODELS: JSON.stringify(models) },
    extraWorker: { name: 'baseline', scriptPath: BASELINE_WORKER },
    cacheOffTwin: true,
    // The Workers' log lines go to stderr, so stdout stays the markdown report.
    onLog: (line) => process.stderr.write(`${line}\n`),
  });
}

/** The real GPU function on the tiny-sd fixture, in this process, and the profile that pins it. */
export async function startFixtureGpu(overrides: Record<string, string> = {}): Promise<{ service: GpuFunctionService; info: ModelInfo }> {
  const config = configFromEnv({
    MODEL: join(ROOT, 'test/fixtures/tiny-sd'),
    HOST: '127.0.0.1',
    PORT: '0',
    EXECUTION_PROVIDER: 'cpu',
    HF_HUB_OFFLINE: '1',
    WARMUP_STEPS: '1',
    ...overrides,
  });
  const service = await startGpuFunction(config, { log: () => {} });
  await service.ready;
  const info = modelInfoSchema.parse(await (await fetch(`${service.url}/v1/model`)).json());
  return { service, info };
}

export interface LoadRun {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly count: number;
  readonly errors: number;
  readonly non2xx: number;
}

/** A closed-loop autocannon run; `onResponse` sees every answer as it comes. */
export async function loadRun(
  url: string,
  requests: readonly AutocannonRequest[],
  options: { connections: number; seconds: number; onResponse?: () => void },
): Promise<LoadRun> {
  const latencies: number[] = [];
  const instance = autocannon({ url, connections: options.connections, duration: options.seconds, requests, timeout: 30 });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
    options.onResponse?.();
  });
  const result = await instance;
  return {
    requestsPerSecond: latencies.length / result.duration,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    count: latencies.length,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
