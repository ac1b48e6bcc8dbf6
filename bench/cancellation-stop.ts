// Disconnect-to-stop time: how long the GPU function goes on computing after the client of a running
// batch goes away (issue 10, "abandoned work stops within one step"). The real service as a process
// (`gpu-function/server/main.ts`, MAX_BATCH_SIZE=1), by default on tiny-sd with the CPU provider at
// 512² and 30 steps. Each run asks for one picture with `Accept: text/event-stream`, reads its `step`
// events (their spacing is the step time of that very run), aborts the request once step `--abort-after`
// has been reported, and then times, from the abort:
//   - the `generation_cancelled` log line (the pipeline thread gave the batch up), and
//   - `sd_batch_running` read back as 0 from /metrics (polled every 10 ms: what an operator sees).
// It also reports how many steps the batch finished after the abort (from the log line's steps_done).
// One untimed run first: the first 512² batch of a process pays for its memory (seconds more a step).
//
// Run: npx tsx bench/cancellation-stop.ts [--model test/fixtures/tiny-sd] [--size 512] [--steps 30]
//        [--runs 5] [--abort-after 3] [--provider cpu]
// Prints a markdown table with the machine and its load. Figures, never pass/fail.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { EVENT_STREAM_CONTENT_TYPE, readProgressStream } from '../contract';
import {
  type GpuFunctionService,
  metricValue,
  sleep,
  startGpuFunction,
  stopGpuFunction,
} from './support/gpu-function-service';
import { fixed, isMain, machineLine, median } from './support/stats';

interface Settings {
  readonly model: string;
  readonly size: number;
  readonly steps: number;
  readonly runs: number;
  readonly abortAfter: number;
  readonly provider: string;
}

interface Service extends GpuFunctionService {
  /** Resolves with the next `generation_cancelled` log line's fields and the time it was read. */
  nextCancellation(): Promise<{ at: number; stepsDone: number }>;
}

async function startService(args: Settings): Promise<Service> {
  let waiting: ((line: { at: number; stepsDone: number }) => void) | undefined;
  const service = await startGpuFunction(
    { MODEL: args.model, EXECUTION_PROVIDER: args.provider, MAX_BATCH_SIZE: '1' },
    (entry, at) => {
      if (entry.event !== 'generation_cancelled') return;
      const stepsDone = entry.steps_done as number[] | undefined;
      waiting?.({ at, stepsDone: stepsDone?.[0] ?? Number.NaN });
    },
  );
  return { ...service, nextCancellation: () => new Promise((resolve) => (waiting = resolve)) };
}

interface RunResult {
  /** Median spacing of the step events before the abort, ms. */
  readonly stepMs: number;
  /** Abort → generation_cancelled logged, ms. */
  readonly toLogMs: number;
  /** Abort → sd_batch_running 0 on /metrics, ms. */
  readonly toIdleMs: number;
  /** Steps the batch finished after the abort. */
  readonly stepsAfterAbort: number;
}

async function oneRun(service: Service, args: Settings, seed: number): Promise<RunResult> {
  const controller = new AbortController();
  const response = await fetch(`${service.url}/v1/generate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: EVENT_STREAM_CONTENT_TYPE },
    body: JSON.stringify({ prompt: `abandoned ${seed}`, seed, width: args.size, height: args.size, steps: args.steps }),
    signal: controller.signal,
  });
  if (response.status !== 200) throw new Error(`generate answered ${response.status}: ${await response.text()}`);
  const stepTimes: number[] = [];
  let stepAtAbort = 0;
  const cancellation = service.nextCancellation();
  let abortedAt = 0;
  try {
    for await (const event of readProgressStream(response.body!)) {
      if (event.event !== 'step') continue;
      stepTimes.push(performance.now());
      if (event.data.step >= args.abortAfter) {
        stepAtAbort = event.data.step;
        abortedAt = performance.now();
        controller.abort();
        break;
      }
    }
  } catch {
    // the abort ends the stream
  }
  let idleAt = 0;
  while (idleAt === 0) {
    if ((await metricValue(service.url, 'sd_batch_running')) === 0) idleAt = performance.now();
    else await sleep(10);
  }
  const cancelled = await cancellation;
  const gaps = stepTimes.slice(1).map((t, i) => t - stepTimes[i]!);
  return {
    stepMs: median(gaps),
    toLogMs: cancelled.at - abortedAt,
    toIdleMs: idleAt - abortedAt,
    stepsAfterAbort: cancelled.stepsDone - stepAtAbort,
  };
}

export async function runCancellationStopBench(options: Partial<Settings> = {}): Promise<string[]> {
  const args: Settings = {
    model: 'test/fixtures/tiny-sd',
    size: 512,
    steps: 30,
    runs: 5,
    abortAfter: 3,
    provider: 'cpu',
    ...options,
  };
  const service = await startService(args);
  try {
    await oneRun(service, { ...args, abortAfter: 2 }, 0); // untimed: the first batch at this size
    const results: RunResult[] = [];
    const load = loadavg()[0]!;
    for (let run = 1; run <= args.runs; run++) results.push(await oneRun(service, args, run));
    const loadAfter = loadavg()[0]!;
    const row = (name: string, values: number[], digits = 0) =>
      `| ${name} | ${fixed(median(values), digits)} | ${fixed(Math.min(...values), digits)} | ${fixed(Math.max(...values), digits)} |`;
    return [
      `${args.model}, ${args.size}×${args.size}, ${args.steps} steps, ${args.provider}; aborted after step ${args.abortAfter}; ${args.runs} runs`,
      `${machineLine()}; load average (1 min) ${fixed(load, 1)} before, ${fixed(loadAfter, 1)} after`,
      '',
      '| | median | min | max |',
      '|---|---|---|---|',
      row(
        'step time (ms)',
        results.map((r) => r.stepMs),
      ),
      row(
        'abort → `generation_cancelled` logged (ms)',
        results.map((r) => r.toLogMs),
      ),
      row(
        'abort → `sd_batch_running` 0 (ms)',
        results.map((r) => r.toIdleMs),
      ),
      row(
        'steps finished after the abort',
        results.map((r) => r.stepsAfterAbort),
      ),
    ];
  } finally {
    await stopGpuFunction(service);
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      size: { type: 'string' },
      steps: { type: 'string' },
      runs: { type: 'string' },
      'abort-after': { type: 'string' },
      provider: { type: 'string' },
    },
  });
  const lines = await runCancellationStopBench({
    ...(values.model === undefined ? {} : { model: values.model }),
    ...(values.size === undefined ? {} : { size: Number(values.size) }),
    ...(values.steps === undefined ? {} : { steps: Number(values.steps) }),
    ...(values.runs === undefined ? {} : { runs: Number(values.runs) }),
    ...(values['abort-after'] === undefined ? {} : { abortAfter: Number(values['abort-after']) }),
    ...(values.provider === undefined ? {} : { provider: values.provider }),
  });
  console.log(lines.join('\n'));
}
