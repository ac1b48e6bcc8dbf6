// Coalescing and load through the real edge Worker in local workerd.
// 1. 100 concurrent GETs of one URL nobody asked for before, with the real GPU function on the tiny-sd
//    fixture behind the edge: how many generations the GPU function made (its sd_generations_total),
//    against 100 concurrent GETs of 100 different new URLs in the same run (100 generations).
// 2. A mixed load: 90 % hits on stored pictures, 10 % misses on a slow GPU function (the stub, every
//    answer 1 s late), against the same hits alone and against the same mix with misses the GPU answers
//    at once, in interleaved rounds: do misses in flight slow the hits down, beyond the work a miss costs
//    anyway? The misses are fired alongside the closed-loop hits (one per nine hits answered) and not
//    waited for, so they pile up in flight as they would in production.
// Run alone: npx tsx bench/edge-load.ts [--seconds 5] [--rounds 3] [--connections 8] [--miss-delay-ms 1000]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { encodePng } from '../gpu-function/pipeline/image/encode-png';
import { startGpuStub } from '../test/support/gpu-stub-server';
import { sdLikeImage } from './png-encode';
import { loadRun, type LoadRun, type ModelProfileInit, startBenchEdge, startFixtureGpu } from './support/bench-stack';
import { type BenchSection, fixed, isMain, machineLine, median, percentile, printSection } from './support/stats';

export interface EdgeLoadOptions {
  readonly seconds?: number;
  readonly rounds?: number;
  readonly connections?: number;
  readonly missDelayMs?: number;
}

const SLOW_MODEL = 'slow-stub@local-bench';
const HIT_PICTURES = 20;
const MISS_EVERY = 9; // one miss per 9 hits: 10 % of all requests

async function generationsOf(gpuUrl: string): Promise<number> {
  const text = await (await fetch(`${gpuUrl}/metrics`)).text();
  return Number(/^sd_generations_total (\S+)$/m.exec(text)?.[1] ?? 0);
}

interface Burst {
  readonly ms: number;
  readonly statuses: Map<number, number>;
  readonly outcomes: Map<string, number>;
  readonly distinctBodies: number;
  readonly generations: number;
}

async function burst(edgeUrl: string, gpuUrl: string, paths: readonly string[]): Promise<Burst> {
  const before = await generationsOf(gpuUrl);
  const started = performance.now();
  const answers = await Promise.all(
    paths.map(async (path) => {
      const response = await fetch(`${edgeUrl}${path}`);
      return { status: response.status, outcome: response.headers.get('Cache-Status') ?? '–', body: Buffer.from(await response.arrayBuffer()) };
    }),
  );
  const ms = performance.now() - started;
  const count = <K>(keys: K[]) => keys.reduce((map, key) => map.set(key, (map.get(key) ?? 0) + 1), new Map<K, number>());
  return {
    ms,
    statuses: count(answers.map((a) => a.status)),
    outcomes: count(answers.map((a) => a.outcome.replace('dreamurl; ', ''))),
    distinctBodies: new Set(answers.map((a) => a.body.toString('base64'))).size,
    generations: (await generationsOf(gpuUrl)) - before,
  };
}

const show = (map: Map<unknown, number>) => [...map].map(([k, v]) => `${k} × ${v}`).join(', ');

export async function runEdgeLoadBench(options: EdgeLoadOptions = {}): Promise<BenchSection> {
  const seconds = options.seconds ?? 5;
  const rounds = options.rounds ?? 3;
  const connections = options.connections ?? 8;
  const missDelayMs = options.missDelayMs ?? 1000;
  const gpu = await startFixtureGpu({ MAX_QUEUE: '200' });
  const pictures = new Map<number, Uint8Array>();
  const picture = (_request: unknown, width: number, height: number) => {
    if (!pictures.has(width)) pictures.set(width, encodePng(sdLikeImage(width, height), width, height));
    return pictures.get(width)!;
  };
  const stub = await startGpuStub({ model: SLOW_MODEL, defaultScenario: { mode: 'slow', delayMs: missDelayMs }, picture });
  const fastStub = await startGpuStub({ model: SLOW_MODEL, picture });
  const [slowRepo, slowRevision] = SLOW_MODEL.split('@') as [string, string];
  const stubProfile = {
    repo: slowRepo,
    revision: slowRevision,
    defaults: { steps: 20, guidance: 7.5, scheduler: 'pndm', width: 64, height: 64 },
    limits: { min_side: 64, max_side: 512, side_multiple: 8, max_steps: 50 },
  };
  const profiles: ModelProfileInit[] = [
    { name: 'tiny-sd', repo: gpu.info.id, revision: gpu.info.revision, default: true, defaults: gpu.info.defaults, limits: gpu.info.limits },
    { name: 'slow', gpu_function_url: stub.url, ...stubProfile },
    { name: 'fast', gpu_function_url: fastStub.url, ...stubProfile },
  ];
  const edge = await startBenchEdge(gpu.service.url, profiles);
  const lines: string[] = [];
  try {
    // --- 1. coalescing ------------------------------------------------------------------------------
    const run = randomUUID().slice(0, 8);
    const same = await burst(edge.url, gpu.service.url, Array.from({ length: 100 }, () => `/v1/images?prompt=a+crowded+harbour+${run}`));
    const different = await burst(
      edge.url,
      gpu.service.url,
      Array.from({ length: 100 }, (_, i) => `/v1/images?prompt=a+crowded+harbour+${run}+${i}`),
    );
    const d = gpu.info.defaults;
    lines.push(
      `The real GPU function on the tiny-sd fixture (CPU, ${d.width}×${d.height}, ${d.steps} steps, MAX_BATCH_SIZE 4) behind the edge in workerd; ` +
        `100 GETs sent at once; ${machineLine()}.`,
      '',
      '| 100 concurrent GETs of … | GPU generations | answers | Cache-Status | distinct bodies | wall time |',
      '|---|---:|---|---|---:|---:|',
      `| one new URL | **${same.generations}** | ${show(same.statuses)} | ${show(same.outcomes)} | ${same.distinctBodies} | ${fixed(same.ms / 1000)} s |`,
      `| 100 different new URLs (baseline) | ${different.generations} | ${show(different.statuses)} | ${show(different.outcomes)} | ${different.distinctBodies} | ${fixed(different.ms / 1000)} s |`,
      '',
    );

    // --- 2. hits during misses ------------------------------------------------------------------------
    const hitPaths = Array.from({ length: HIT_PICTURES }, (_, i) => `/v1/images?model=slow&prompt=a+stored+lighthouse+${run}+${i}`);
    await Promise.all(hitPaths.map(async (path) => (await fetch(`${edge.url}${path}`)).arrayBuffer()));
    const requests = hitPaths.map((path) => ({ path }));
    await loadRun(edge.url, requests, { connections, seconds: 1 }); // warm-up
    const alone: LoadRun[] = [];
    const newMisses = () => ({ runs: [] as LoadRun[], latencies: [] as number[], statuses: new Map<number, number>(), maxInFlight: 0, sent: 0 });
    const withMisses = { fast: newMisses(), slow: newMisses() };
    const mixedRun = async (model: 'fast' | 'slow') => {
      const misses = withMisses[model];
      const inFlight = new Set<Promise<void>>();
      let answered = 0;
      const fireMiss = () => {
        const started = performance.now();
        misses.sent++;
        const done = fetch(`${edge.url}/v1/images?model=${model}&prompt=a+new+lighthouse+${randomUUID()}`)
          .then(async (response) => {
            await response.arrayBuffer();
            misses.latencies.push(performance.now() - started);
            misses.statuses.set(response.status, (misses.statuses.get(response.status) ?? 0) + 1);
          })
          .catch(() => void misses.statuses.set(0, (misses.statuses.get(0) ?? 0) + 1))
          .finally(() => inFlight.delete(done));
        inFlight.add(done);
        misses.maxInFlight = Math.max(misses.maxInFlight, inFlight.size);
      };
      misses.runs.push(await loadRun(edge.url, requests, { connections, seconds, onResponse: () => ++answered % MISS_EVERY === 0 && fireMiss() }));
      await Promise.all(inFlight);
    };
    for (let round = 0; round < rounds; round++) {
      alone.push(await loadRun(edge.url, requests, { connections, seconds }));
      await mixedRun('fast');
      await mixedRun('slow');
    }
    const cell = (runs: LoadRun[], pick: (r: LoadRun) => number) => median(runs.map(pick));
    const row = (label: string, runs: LoadRun[]) =>
      `| ${label} | ${fixed(cell(runs, (r) => r.requestsPerSecond), 0)} | ${fixed(cell(runs, (r) => r.p50Ms))} | ${fixed(cell(runs, (r) => r.p99Ms))} | ${runs.reduce((n, r) => n + r.errors + r.non2xx, 0)} |`;
    const ratios = (runs: LoadRun[], base: LoadRun[]) => {
      const ratio = (pick: (r: LoadRun) => number) => fixed(cell(runs, pick) / cell(base, pick));
      return `requests/s ${ratio((r) => r.requestsPerSecond)}×, p50 ${ratio((r) => r.p50Ms)}×, p99 ${ratio((r) => r.p99Ms)}×`;
    };
    const missLine = (label: string, m: ReturnType<typeof newMisses>) =>
      `${label}: ${m.sent} sent, answers ${show(m.statuses)}, latency p50 ${fixed(percentile(m.latencies, 50), 0)} ms, p99 ${fixed(percentile(m.latencies, 99), 0)} ms.`;
    const { fast, slow } = withMisses;
    lines.push(
      `Hits: ${HIT_PICTURES} stored 64×64 pictures in turn, ${connections} connections, ${seconds} s per run, median of ${rounds} rounds ` +
        `(the three kinds of run in turns). Misses: one new URL per ${MISS_EVERY} hits answered (10 % of requests), fired without ` +
        `waiting so they overlap the hits; the GPU stub answers them at once, or ${missDelayMs} ms late.`,
      '',
      '| hits … | requests/s | p50 ms | p99 ms | errors |',
      '|---|---:|---:|---:|---:|',
      row('alone', alone),
      row(`with 10 % misses answered at once (up to ${fast.maxInFlight} in flight)`, fast.runs),
      row(`with 10 % misses answered ${missDelayMs} ms late (up to ${slow.maxInFlight} in flight)`, slow.runs),
      '',
      `Hits with slow misses ÷ hits alone: ${ratios(slow.runs, alone)}. ` +
        `Hits with slow misses ÷ hits with fast misses (the cost of misses being in flight, beyond their work): ${ratios(slow.runs, fast.runs)}.`,
      '',
      missLine('Misses answered at once', fast),
      missLine(`Misses answered ${missDelayMs} ms late`, slow),
    );
    return { title: 'Coalescing and load (local workerd)', lines };
  } finally {
    await edge.close();
    await stub.close();
    await fastStub.close();
    await gpu.service.shutdown(1000);
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: { seconds: { type: 'string' }, rounds: { type: 'string' }, connections: { type: 'string' }, 'miss-delay-ms': { type: 'string' } },
  });
  const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  const options: EdgeLoadOptions = Object.fromEntries(
    Object.entries({
      seconds: number(values.seconds),
      rounds: number(values.rounds),
      connections: number(values.connections),
      missDelayMs: number(values['miss-delay-ms']),
    }).filter(([, v]) => v !== undefined),
  );
  printSection(await runEdgeLoadBench(options));
}
