// The edge's hit path against a baseline, in one local workerd: `GET /v1/images?…` of a stored
// picture (an SD-like PNG from bench/png-encode.ts's generator: ≈ 400 KB at 512 × 512, as a real
// Stable Diffusion picture, and a 64 × 64 one where per-request work dominates) through the real edge
// Worker (validation, content key, Cache API, then R2) versus a baseline Worker that returns the same
// R2 object by its name and does nothing else (bench/support/baseline-worker.js), and the same edge
// with the Cache API off (every hit read from R2, like the baseline). All three run in one miniflare
// instance on the same R2 persistence, each on its own socket; autocannon drives them in turns
// (interleaved rounds, medians), so a slow patch of a shared machine hits all alike. Never pass/fail.
// Run alone: npx tsx bench/edge-hit-path.ts [--seconds 5] [--rounds 3] [--connections 8]
import { parseArgs } from 'node:util';
import { encodePng } from '../gpu-function/pipeline/image/encode-png';
import { startGpuStub } from '../test/support/gpu-stub-server';
import { sdLikeImage } from './png-encode';
import { loadRun, type LoadRun, startBenchEdge } from './support/bench-stack';
import { type BenchSection, fixed, isMain, machineLine, median, printSection } from './support/stats';

export interface HitPathOptions {
  readonly seconds?: number;
  readonly rounds?: number;
  readonly connections?: number;
}


const STUB_MODEL = 'tiny-sd@local-bench';
const PROFILE = {
  name: 'tiny-sd',
  repo: 'tiny-sd',
  revision: 'local-bench',
  default: true,
  defaults: { steps: 20, guidance: 7.5, scheduler: 'pndm', width: 512, height: 512 },
  limits: { min_side: 64, max_side: 1024, side_multiple: 8, max_steps: 50 },
};
const SIZES = [512, 64] as const;

export async function runHitPathBench(options: HitPathOptions = {}): Promise<BenchSection> {
  const seconds = options.seconds ?? 4;
  const rounds = options.rounds ?? 3;
  const connections = options.connections ?? 8;
  const pictures = new Map(SIZES.map((side) => [side, encodePng(sdLikeImage(side, side), side, side)]));
  const stub = await startGpuStub({ model: STUB_MODEL, picture: (_request, width) => pictures.get(width as (typeof SIZES)[number])! });
  const edge = await startBenchEdge(stub.url, [PROFILE]);
  const lines: string[] = [
    `Closed loop, ${connections} connections, ${seconds} s per run, median of ${rounds} rounds in which the three Workers take turns; ` +
      `autocannon on the same machine; ${machineLine()}.`,
    'Edge: `GET /v1/images?prompt=…&seed=42&width=…&height=…` of a stored picture (validation, content key, Cache API, R2). ' +
      'Cache-off twin: the same edge with miniflare\'s Cache API disabled, so every hit is read from R2 as the baseline does. ' +
      'Baseline: `GET /images/<key>.png`, the same R2 object with no validation, keying or cache.',
    '',
    '| picture | worker | requests/s | p50 ms | p99 ms | errors | ÷ baseline: requests/s, p50, p99 |',
    '|---|---|---:|---:|---:|---:|---|',
  ];
  try {
    for (const side of SIZES) {
      const path = `/v1/images?prompt=a+lighthouse+at+dusk&seed=42&width=${side}&height=${side}`;
      const first = await fetch(`${edge.url}${path}`);
      if (first.status !== 200) throw new Error(`the edge answered ${first.status}: ${await first.text()}`);
      const bytes = new Uint8Array(await first.arrayBuffer());
      const key = (first.headers.get('ETag') ?? '').slice(1, -1);
      const baselinePath = `/images/${key}.png`;
      const fromBaseline = new Uint8Array(await (await fetch(`${edge.extraUrl}${baselinePath}`)).arrayBuffer());
      if (Buffer.compare(Buffer.from(bytes), Buffer.from(fromBaseline)) !== 0) throw new Error('the baseline serves other bytes');
      const targets = [
        { name: 'edge (Cache API hit)', url: edge.url, path, runs: [] as LoadRun[] },
        { name: 'edge, cache off (R2 hit)', url: edge.cacheOffUrl!, path, runs: [] as LoadRun[] },
        { name: 'baseline (R2 only)', url: edge.extraUrl!, path: baselinePath, runs: [] as LoadRun[] },
      ];
      for (const target of targets) {
        const status = (await fetch(`${target.url}${target.path}`)).headers.get('Cache-Status');
        if (target !== targets[2] && !/hit/.test(status ?? '')) throw new Error(`${target.name}: not a hit (${status})`);
        await loadRun(target.url, [{ path: target.path }], { connections, seconds: 1 }); // warm-up
      }
      for (let round = 0; round < rounds; round++) {
        for (const target of targets) target.runs.push(await loadRun(target.url, [{ path: target.path }], { connections, seconds }));
      }
      const cell = (runs: LoadRun[], pick: (run: LoadRun) => number) => median(runs.map(pick));
      const baseline = targets[2]!.runs;
      for (const target of targets) {
        const ratio = (pick: (run: LoadRun) => number) => fixed(cell(target.runs, pick) / cell(baseline, pick));
        lines.push(
          `| ${side}×${side}, ${Math.round(bytes.byteLength / 1024)} KiB | ${target.name} | ${fixed(cell(target.runs, (r) => r.requestsPerSecond), 0)} | ` +
            `${fixed(cell(target.runs, (r) => r.p50Ms))} | ${fixed(cell(target.runs, (r) => r.p99Ms))} | ` +
            `${target.runs.reduce((n, r) => n + r.errors + r.non2xx, 0)} | ` +
            `${ratio((r) => r.requestsPerSecond)}×, ${ratio((r) => r.p50Ms)}×, ${ratio((r) => r.p99Ms)}× |`,
        );
      }
    }
    return { title: 'Edge hit path vs. a baseline Worker (local workerd)', lines };
  } finally {
    await edge.close();
    await stub.close();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, rounds: { type: 'string' }, connections: { type: 'string' } } });
  const numbers = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)]));
  printSection(await runHitPathBench(numbers));
}
