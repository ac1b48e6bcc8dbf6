// The real GPU function as a child process for the benches that drive it over HTTP
// (gpu-function-throughput.ts, cancellation-stop.ts): started from its sources with tsx, listening on a
// port of its own choosing, ready once /ping answers 200, stopped with SIGTERM as a platform would.
// Its JSON log lines are handed to the caller as they arrive, with the time each was read.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '../..');

/** One line of the GPU function's JSON log (docs/gpu-function.md, "Logs"). */
export interface ServiceLogEntry {
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface GpuFunctionService {
  readonly child: ChildProcess;
  readonly url: string;
  /** Milliseconds from spawn to the first /ping 200 (tsx, model load, warm-up). */
  readonly startupMs: number;
}

/**
 * Starts `gpu-function/server/main.ts` with `env` over this process's environment (the Hub kept offline
 * unless HF_HUB_OFFLINE says otherwise) and resolves once it answers /ping with 200.
 */
export async function startGpuFunction(
  env: Readonly<Record<string, string>>,
  onLog?: (entry: ServiceLogEntry, at: number) => void,
): Promise<GpuFunctionService> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'gpu-function/server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE ?? '1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the service exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const at = performance.now();
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as ServiceLogEntry;
      if (entry.event === 'listening') resolve(String(entry.url));
      onLog?.(entry, at);
    });
  });
  while ((await fetch(`${url}/ping`)).status !== 200) await sleep(5);
  return { child, url, startupMs: performance.now() - started };
}

/** SIGTERM, then the exit: the service finishes queued work first (its drain). */
export async function stopGpuFunction(service: GpuFunctionService): Promise<void> {
  if (service.child.exitCode !== null) return;
  const exited = new Promise((resolve) => service.child.once('exit', resolve));
  service.child.kill('SIGTERM');
  await exited;
}

/** A value of the `/metrics` gauge or counter `name` (no labels), NaN when absent. */
export async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
