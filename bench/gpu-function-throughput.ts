// GPU function throughput: images per second through the real service over HTTP at concurrency 1, 4
// and 8, batched (MAX_BATCH_SIZE=8, with the default BATCH_TIMEOUT_MS of 0 — a batch starts as soon as
// the device is free — and with a 100 ms window for requests that find it idle, the old default) against
// unbatched (MAX_BATCH_SIZE=1) in the same run, plus the start-up time to /ping 200 and how long /ping
// takes to answer while the service is busy (the pipeline runs in a worker thread, so this measures
// what generation still costs the HTTP thread: scheduling, copies, and on 2 cores the shared CPU).
// Each configuration is its own process (`gpu-function/server/main.ts`, as `npm run start:gpu` runs
// it). They start one after the other (start-up is timed alone), then take turns: every round runs
// each concurrency against each configuration in turn, only one loaded at a time, so a slow patch of a
// shared machine hits all of them alike; each cell is the median over the rounds.
//
// Run: npx tsx bench/gpu-function-throughput.ts [--model test/fixtures/tiny-sd] [--size 64] [--steps 20]
//        [--requests 24] [--rounds 3] [--provider cpu] [--guidance 7.5]
// Prints a markdown table. Closed loop: `concurrency` clients each send their next request as soon as
// the previous one is answered; every request has its own seed. Figures, never pass/fail.
// runGpuFunctionThroughputBench() is what bench/run.ts calls.
import { parseArgs } from 'node:util';
import {
  type GpuFunctionService,
  metricValue,
  sleep,
  startGpuFunction,
  stopGpuFunction,
} from './support/gpu-function-service';
import { type BenchSection, isMain, machineLine, median, printSection } from './support/stats';

const CONCURRENCY = [1, 4, 8] as const;

export interface ThroughputOptions {
  /** A model folder or Hub repo id. @default 'test/fixtures/tiny-sd' */
  readonly model?: string;
  /** Width and height. @default 64 */
  readonly size?: number;
  /** @default 20 */
  readonly steps?: number;
  /** Requests per cell. @default 24 */
  readonly requests?: number;
  /** Interleaved rounds; each cell is the median. @default 3 */
  readonly rounds?: number;
  /** EXECUTION_PROVIDER. @default 'cpu' */
  readonly provider?: string;
  /** DEFAULT_GUIDANCE. @default 7.5 (0 for SD-Turbo) */
  readonly guidance?: number;
}

type Settings = Required<ThroughputOptions>;

type Service = GpuFunctionService;

function startService(args: Settings, maxBatchSize: number, batchTimeoutMs: number): Promise<Service> {
  return startGpuFunction({
    MODEL: args.model,
    EXECUTION_PROVIDER: args.provider,
    MAX_BATCH_SIZE: String(maxBatchSize),
    BATCH_TIMEOUT_MS: String(batchTimeoutMs),
    MAX_QUEUE: '64',
    // Multiples of 16 for the fixture (its UNet downsamples once); real SD exports keep 64.
    SIDE_MULTIPLE: '16',
    MIN_SIDE: '16',
    DEFAULT_WIDTH: String(args.size),
    DEFAULT_HEIGHT: String(args.size),
    DEFAULT_STEPS: String(args.steps),
    DEFAULT_GUIDANCE: String(args.guidance),
  });
}

interface LoadResult {
  readonly imagesPerSecond: number;
  readonly p50LatencyMs: number;
  readonly meanBatchSize: number;
  /** /ping round trips measured while the load ran. */
  readonly pingP50Ms: number;
  readonly pingMaxMs: number;
}

async function runLoad(service: Service, concurrency: number, seedBase: number, requests: number): Promise<LoadResult> {
  const before = await batchStats(service.url);
  const latencies: number[] = [];
  let next = 0;
  let running = true;
  const pings: number[] = [];
  const pinger = (async () => {
    while (running) {
      const t = performance.now();
      await (await fetch(`${service.url}/ping`)).arrayBuffer();
      pings.push(performance.now() - t);
      await sleep(20);
    }
  })();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const seed = seedBase + next++;
        const t = performance.now();
        const response = await fetch(`${service.url}/v1/generate`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ prompt: `a lighthouse at dusk, study ${seed}`, seed }),
        });
        if (response.status !== 200) throw new Error(`generate answered ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await pinger;
  const after = await batchStats(service.url);
  return {
    imagesPerSecond: requests / seconds,
    p50LatencyMs: median(latencies),
    meanBatchSize: (after.sum - before.sum) / (after.count - before.count),
    pingP50Ms: median(pings),
    pingMaxMs: Math.max(...pings),
  };
}

async function batchStats(url: string): Promise<{ sum: number; count: number }> {
  // Before the first batch the histogram may be absent: count it as empty.
  const [sum, count] = await Promise.all([
    metricValue(url, 'sd_batch_size_sum'),
    metricValue(url, 'sd_batch_size_count'),
  ]);
  return { sum: sum || 0, count: count || 0 };
}

export async function runGpuFunctionThroughputBench(options: ThroughputOptions = {}): Promise<BenchSection> {
  const args: Settings = {
    model: options.model ?? 'test/fixtures/tiny-sd',
    size: options.size ?? 64,
    steps: options.steps ?? 20,
    requests: options.requests ?? 24,
    rounds: options.rounds ?? 3,
    provider: options.provider ?? 'cpu',
    guidance: options.guidance ?? 7.5,
  };
  const { size, steps, requests, rounds } = args;
  const out: string[] = [];
  const configs = [
    { name: 'batched', maxBatchSize: 8, batchTimeoutMs: 0 },
    { name: 'batched-window', maxBatchSize: 8, batchTimeoutMs: 100 },
    { name: 'unbatched', maxBatchSize: 1, batchTimeoutMs: 0 },
  ] as const;
  interface Cell {
    readonly imagesPerSecond: number[];
    readonly p50LatencyMs: number[];
    readonly meanBatchSize: number[];
    readonly pings: { p50: number[]; max: number[] };
  }
  const services = new Map<string, Service>();
  for (const config of configs)
    services.set(config.name, await startService(args, config.maxBatchSize, config.batchTimeoutMs));
  const cells = new Map<string, Cell>();
  const cellOf = (name: string, concurrency: number): Cell => {
    const key = `${name}:${concurrency}`;
    let cell = cells.get(key);
    if (cell === undefined) {
      cell = { imagesPerSecond: [], p50LatencyMs: [], meanBatchSize: [], pings: { p50: [], max: [] } };
      cells.set(key, cell);
    }
    return cell;
  };
  try {
    // One untimed round first: the first batch of each new batch size allocates its buffers.
    for (const config of configs) {
      for (const concurrency of CONCURRENCY)
        await runLoad(services.get(config.name)!, concurrency, 1_000_000 + concurrency * 1000, requests);
    }
    for (let round = 0; round < rounds; round++) {
      for (const concurrency of CONCURRENCY) {
        for (const config of configs) {
          const load = await runLoad(
            services.get(config.name)!,
            concurrency,
            round * 100_000 + concurrency * 1000,
            requests,
          );
          const cell = cellOf(config.name, concurrency);
          cell.imagesPerSecond.push(load.imagesPerSecond);
          cell.p50LatencyMs.push(load.p50LatencyMs);
          cell.meanBatchSize.push(load.meanBatchSize);
          cell.pings.p50.push(load.pingP50Ms);
          cell.pings.max.push(load.pingMaxMs);
        }
      }
    }
  } finally {
    for (const service of services.values()) await stopGpuFunction(service);
  }
  const results = new Map(
    configs.map((config) => [
      config.name,
      {
        startupMs: services.get(config.name)!.startupMs,
        load: new Map(
          CONCURRENCY.map((concurrency) => {
            const cell = cellOf(config.name, concurrency);
            const result: LoadResult = {
              imagesPerSecond: median(cell.imagesPerSecond),
              p50LatencyMs: median(cell.p50LatencyMs),
              meanBatchSize: median(cell.meanBatchSize),
              pingP50Ms: median(cell.pings.p50),
              pingMaxMs: Math.max(...cell.pings.max),
            };
            return [concurrency, result] as const;
          }),
        ),
      },
    ]),
  );

  const batched = results.get('batched')!;
  const windowed = results.get('batched-window')!;
  const unbatched = results.get('unbatched')!;
  const fmt = (value: number, digits = 2): string => value.toFixed(digits);
  out.push(
    `GPU function throughput — model ${args.model}, ${size}×${size}, ${steps} steps, guidance ${args.guidance}, ` +
      `${requests} requests per cell, median of ${rounds} interleaved rounds, ` +
      `provider ${args.provider}; ${machineLine()}. MAX_BATCH_SIZE 8; "default" is BATCH_TIMEOUT_MS=0 ` +
      `(a batch starts as soon as the device is free), "window" is BATCH_TIMEOUT_MS=100 (the old default).`,
    '',
  );
  out.push(
    '| concurrency | default img/s, ÷ unbatched, mean batch | window img/s, ÷ unbatched, mean batch | unbatched img/s ' +
      '| p50 latency default / window / unbatched (ms) | /ping p50 / max while busy, default (ms) |',
  );
  out.push('|---:|---:|---:|---:|---:|---:|');
  for (const concurrency of CONCURRENCY) {
    const b = batched.load.get(concurrency)!;
    const w = windowed.load.get(concurrency)!;
    const u = unbatched.load.get(concurrency)!;
    const cell = (r: LoadResult) =>
      `${fmt(r.imagesPerSecond)}, ${fmt(r.imagesPerSecond / u.imagesPerSecond)}×, ${fmt(r.meanBatchSize, 1)}`;
    out.push(
      `| ${concurrency} | ${cell(b)} | ${cell(w)} | ${fmt(u.imagesPerSecond)} | ` +
        `${fmt(b.p50LatencyMs, 0)} / ${fmt(w.p50LatencyMs, 0)} / ${fmt(u.p50LatencyMs, 0)} | ${fmt(b.pingP50Ms, 1)} / ${fmt(b.pingMaxMs, 0)} |`,
    );
  }
  out.push(
    '',
    `Start-up to /ping 200 (spawn, tsx, model load, warm-up): default ${fmt(batched.startupMs, 0)} ms, ` +
      `window ${fmt(windowed.startupMs, 0)} ms, unbatched ${fmt(unbatched.startupMs, 0)} ms.`,
  );
  return { title: 'GPU function throughput: images/s at concurrency 1/4/8, with and without batching', lines: out };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      size: { type: 'string' },
      steps: { type: 'string' },
      requests: { type: 'string' },
      rounds: { type: 'string' },
      provider: { type: 'string' },
      guidance: { type: 'string' },
    },
  });
  const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  const options = {
    model: values.model,
    size: number(values.size),
    steps: number(values.steps),
    requests: number(values.requests),
    rounds: number(values.rounds),
    provider: values.provider,
    guidance: number(values.guidance),
  };
  printSection(
    await runGpuFunctionThroughputBench(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))),
  );
}
