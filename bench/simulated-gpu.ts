// Serving against a simulated GPU: how the service's own scheduling turns GPU time into throughput and
// latency, measured where this machine has no GPU. The GPU is a timer: a network call takes the time a
// data-centre GPU would take (the model below) and leaves the CPU free meanwhile, as onnxruntime's CUDA
// provider leaves the main thread free while the pipeline's worker thread waits on the device. Everything
// else is real: the pipeline's JavaScript at 512² (stand-in networks answer with prepared fp16 outputs),
// the PNG encoder, the Batcher. Two questions, each old against new in one run:
//
// 1. PNG off the critical path. Before, each batch post-processed and PNG-encoded its pictures before it
//    returned, so the next batch waited for that CPU work; now the batch returns pixels and each request
//    encodes its PNG (zlib on libuv's thread pool) while the next batch runs on the GPU.
// 2. The batching policy. Before, a batch's first request waited up to BATCH_TIMEOUT_MS = 100 for
//    companions even when the GPU was idle; now a batch starts as soon as the GPU is free, and requests
//    that arrive while it runs go together in the next one.
//
// In this process the pipeline's JavaScript and the PNG encoding share one thread (the service runs
// them on two), so the gains shown are, if anything, understated.
// Run alone: npx tsx bench/simulated-gpu.ts [--requests 60] [--rounds 3]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { importBaseline } from './support/baseline-code';
import { type BenchSection, fixed, isMain, machineLine, median, percentile, printSection } from './support/stats';
import { standInNetworks } from '../test/support/stand-in-networks';
import type { ResolvedGeneration } from '../contract';
import { Batcher } from '../gpu-function/server/batcher/batcher';
import { encodePngAsync } from '../gpu-function/pipeline/image/encode-png';
import type { ModelSession } from '../gpu-function/pipeline/onnx-runtime';
import { StableDiffusionPipeline } from '../gpu-function/pipeline/stable-diffusion';
import { ClipTextConditioner } from '../gpu-function/pipeline/text-conditioning';
import { ClipTokenizer } from '../gpu-function/pipeline/tokenizer/clip-tokenizer';

export interface SimulatedGpuOptions {
  /** Requests per measurement. @default 60 */
  readonly requests?: number;
  /** Interleaved rounds; each figure is the median. @default 3 */
  readonly rounds?: number;
}

/**
 * SD-Turbo at 512², one step, no guidance, on an A100-class GPU (≈ 30–38 ms a picture at batch 1):
 * milliseconds per network call for `rows` UNet rows or `images` decoded pictures.
 */
export const GPU_MODEL = Object.freeze({
  textEncoderMs: 2,
  unetMs: (rows: number) => 8 + 6 * rows,
  vaeMs: (images: number) => 4 + 11 * images,
});
/** The same GPU as one cost per batch, for the batching-policy runs (no pipeline JavaScript there). */
const batchMs = (size: number): number => GPU_MODEL.textEncoderMs + GPU_MODEL.unetMs(size) + GPU_MODEL.vaeMs(size);

const TINY_SD = join(import.meta.dirname, '../test/fixtures/tiny-sd');
const MAX_BATCH_SIZE = 8;

function onSimulatedGpu(session: ModelSession, ms: (batch: number) => number): ModelSession {
  return {
    ...session,
    async run(feeds) {
      const first = Object.values(feeds)[0]!;
      await sleep(ms(first.dims[0] ?? 1));
      return session.run(feeds);
    },
  };
}

function request(seed: number): ResolvedGeneration {
  return { prompt: `a lighthouse at dusk, variation ${seed}`, negative_prompt: '', seed, steps: 1, guidance: 0, width: 512, height: 512, scheduler: 'euler' };
}

interface Run {
  readonly imagesPerSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly meanBatch: number;
}

/** Closed loop: `concurrency` clients each send their next request when the previous one is answered. */
async function closedLoop(serve: (item: ResolvedGeneration) => Promise<number>, concurrency: number, requests: number): Promise<Run> {
  const latencies: number[] = [];
  const batches: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const t = performance.now();
        batches.push(await serve(request(next++)));
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { imagesPerSecond: requests / seconds, p50: median(latencies), p95: percentile(latencies, 95), meanBatch: mean(batches) };
}

/** Open loop: requests arrive as a Poisson process of `perSecond`, whatever the answers do. */
async function openLoop(serve: (item: ResolvedGeneration) => Promise<number>, perSecond: number, requests: number): Promise<Run> {
  const latencies: number[] = [];
  const batches: number[] = [];
  const pending: Promise<void>[] = [];
  let state = 12345;
  const uniform = (): number => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
  const started = performance.now();
  let due = started;
  for (let i = 0; i < requests; i++) {
    due += (-Math.log(uniform()) / perSecond) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const t = performance.now();
    pending.push(serve(request(i)).then((size) => {
      batches.push(size);
      latencies.push(performance.now() - t);
    }));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  return { imagesPerSecond: requests / seconds, p50: median(latencies), p95: percentile(latencies, 95), meanBatch: mean(batches) };
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

type BatcherClass = typeof Batcher;

async function pngSection(requests: number, rounds: number): Promise<string[]> {
  const tokenizer = await ClipTokenizer.fromFolder(join(TINY_SD, 'tokenizer'));
  const schedulerConfig = JSON.parse(await readFile(join(TINY_SD, 'scheduler/scheduler_config.json'), 'utf8'));
  const networks = () => {
    const n = standInNetworks({ float: 'float16', kind: 'constant' });
    return {
      textEncoder: onSimulatedGpu(n.textEncoder, () => GPU_MODEL.textEncoderMs),
      unet: onSimulatedGpu(n.unet, GPU_MODEL.unetMs),
      vaeDecoder: onSimulatedGpu(n.vaeDecoder, GPU_MODEL.vaeMs),
    };
  };
  // The baseline takes the tokenizer and text encoder itself; today's pipeline takes a text conditioner.
  const parts = () => {
    const n = networks();
    const conditioner = new ClipTextConditioner(tokenizer, n.textEncoder);
    return { tokenizer, ...n, conditioner, schedulerConfig, vaeScalingFactor: 0.18215 };
  };
  const Old = (await importBaseline<typeof import('../gpu-function/pipeline/stable-diffusion')>('gpu-function/pipeline/stable-diffusion.ts'))
    .StableDiffusionPipeline;
  const before = new Old(parts());
  const after = new StableDiffusionPipeline(parts());

  // Before: the batch returns finished PNGs. After: it returns pixels, and each request encodes its PNG.
  const serveBefore = new Batcher<ResolvedGeneration, unknown>({
    keyOf: () => 'same',
    maxBatchSize: MAX_BATCH_SIZE,
    batchTimeoutMs: 0,
    run: (batch) => before.generate(batch.map((item) => ({ ...item, negativePrompt: item.negative_prompt }))),
  });
  const serveAfter = new Batcher({ keyOf: () => 'same', maxBatchSize: MAX_BATCH_SIZE, batchTimeoutMs: 0, run: (batch: readonly ResolvedGeneration[]) => after.generate(batch) });
  const serve = {
    before: async (item: ResolvedGeneration) => (await serveBefore.add(item)).batchSize,
    after: async (item: ResolvedGeneration) => {
      const { result, batchSize } = await serveAfter.add(item);
      await encodePngAsync(result.pixels, result.width, result.height);
      return batchSize;
    },
  };
  const concurrencies = [1, 4, 8];
  const results = new Map<string, Run[]>();
  for (const version of ['before', 'after'] as const) await closedLoop(serve[version], 4, 8); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const c of concurrencies) {
      for (const version of ['before', 'after'] as const) {
        const key = `${version}/${c}`;
        results.set(key, [...(results.get(key) ?? []), await closedLoop(serve[version], c, requests)]);
      }
    }
  }
  const m = (key: string, f: (r: Run) => number) => median(results.get(key)!.map(f));
  return [
    `**PNG off the critical path**: SD-Turbo-like pictures (512², 1 step, no guidance) through the Batcher ` +
      `(MAX_BATCH_SIZE ${MAX_BATCH_SIZE}, no batch wait) on the simulated GPU, closed loop, ${requests} requests a run. ` +
      `Before: the pipeline at the baseline commit (RGB8 and PNG inside the batch). After: today's (RGB8 by table ` +
      `in the batch, the PNG encoded per request after it).`,
    '',
    '| clients | before img/s | after img/s | after ÷ before | p50 ms before → after | mean batch before / after |',
    '|---:|---:|---:|---:|---:|---:|',
    ...concurrencies.map((c) => {
      const [b, a] = [`before/${c}`, `after/${c}`];
      return (
        `| ${c} | ${fixed(m(b, (r) => r.imagesPerSecond), 1)} | ${fixed(m(a, (r) => r.imagesPerSecond), 1)} | ` +
        `${fixed(m(a, (r) => r.imagesPerSecond) / m(b, (r) => r.imagesPerSecond))}× | ${fixed(m(b, (r) => r.p50), 0)} → ${fixed(m(a, (r) => r.p50), 0)} | ` +
        `${fixed(m(b, (r) => r.meanBatch), 1)} / ${fixed(m(a, (r) => r.meanBatch), 1)} |`
      );
    }),
  ];
}

async function batchingSection(requests: number, rounds: number): Promise<string[]> {
  const OldBatcher = (await importBaseline<{ Batcher: BatcherClass }>('gpu-function/server/batcher/batcher.ts')).Batcher;
  const gpu = async (batch: readonly ResolvedGeneration[]) => {
    await sleep(batchMs(batch.length));
    return batch.map(() => batch.length);
  };
  // The old default waited up to 100 ms for companions; today's default is not to wait.
  const policies = {
    before: new OldBatcher<ResolvedGeneration, number>({ keyOf: () => 'same', maxBatchSize: MAX_BATCH_SIZE, batchTimeoutMs: 100, run: gpu }),
    after: new Batcher<ResolvedGeneration, number>({ keyOf: () => 'same', maxBatchSize: MAX_BATCH_SIZE, run: gpu }),
  };
  const serve = (version: keyof typeof policies) => async (item: ResolvedGeneration) => (await policies[version].add(item)).result;
  const capacity = (MAX_BATCH_SIZE * 1000) / batchMs(MAX_BATCH_SIZE);
  const loads = [
    ...[1, 4, 8].map((c) => ({ label: `closed loop, ${c} client${c > 1 ? 's' : ''}`, run: (s: ReturnType<typeof serve>) => closedLoop(s, c, requests) })),
    ...[0.1, 0.5, 0.9].map((share) => ({
      label: `open loop, ${fixed(share * capacity, 1)} req/s (${share * 100} % of capacity)`,
      run: (s: ReturnType<typeof serve>) => openLoop(s, share * capacity, requests),
    })),
  ];
  const results = new Map<string, Run[]>();
  for (let round = 0; round < rounds; round++) {
    for (const load of loads) {
      for (const version of ['before', 'after'] as const) {
        const key = `${version}/${load.label}`;
        results.set(key, [...(results.get(key) ?? []), await load.run(serve(version))]);
      }
    }
  }
  const m = (key: string, f: (r: Run) => number) => median(results.get(key)!.map(f));
  return [
    `**Batching policy**: the Batcher alone against the simulated GPU (a batch of b takes ${batchMs(1)} ms for b = 1, ` +
      `${batchMs(4)} ms for 4, ${batchMs(8)} ms for 8: capacity ${fixed(capacity, 1)} img/s), MAX_BATCH_SIZE ${MAX_BATCH_SIZE}, ` +
      `${requests} requests a run. Before: the baseline Batcher with its default BATCH_TIMEOUT_MS = 100. After: today's default.`,
    '',
    '| load | img/s before → after | after ÷ before | p50 ms before → after | p95 ms before → after | mean batch before → after |',
    '|---|---:|---:|---:|---:|---:|',
    ...loads.map(({ label }) => {
      const [b, a] = [`before/${label}`, `after/${label}`];
      const ips = (k: string) => m(k, (r) => r.imagesPerSecond);
      return (
        `| ${label} | ${fixed(ips(b), 1)} → ${fixed(ips(a), 1)} | ${fixed(ips(a) / ips(b))}× | ${fixed(m(b, (r) => r.p50), 0)} → ${fixed(m(a, (r) => r.p50), 0)} | ` +
        `${fixed(m(b, (r) => r.p95), 0)} → ${fixed(m(a, (r) => r.p95), 0)} | ${fixed(m(b, (r) => r.meanBatch), 1)} → ${fixed(m(a, (r) => r.meanBatch), 1)} |`
      );
    }),
  ];
}

export async function runSimulatedGpuBench(options: SimulatedGpuOptions = {}): Promise<BenchSection> {
  const requests = options.requests ?? 60;
  const rounds = options.rounds ?? 3;
  return {
    title: 'Serving against a simulated GPU: PNG off the critical path, and the batching policy (before → after)',
    lines: [
      `The GPU is a timer (text encoder ${GPU_MODEL.textEncoderMs} ms; UNet 8 + 6 ms per row; VAE 4 + 11 ms per picture: ` +
        `SD-Turbo at 512² on an A100-class GPU); everything else is the real code; median of ${rounds} interleaved rounds; ${machineLine()}.`,
      '',
      ...(await pngSection(requests, rounds)),
      '',
      ...(await batchingSection(requests * 2, rounds)),
    ],
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { requests: { type: 'string' }, rounds: { type: 'string' } } });
  printSection(
    await runSimulatedGpuBench({
      ...(values.requests === undefined ? {} : { requests: Number(values.requests) }),
      ...(values.rounds === undefined ? {} : { rounds: Number(values.rounds) }),
    }),
  );
}
