// CPU per request of what the edge does before it looks anything up: read and validate the query
// (edge/request/image-query.ts: strict query-string parsing, the zod schema, the model's limits and defaults), derive
// the seed when there is none, and compute the content key (edge/request/content-key.ts: canonical JSON, SHA-256). The
// baseline, in the same run, is the least a cache keyed on the URL does: URLSearchParams over the
// query and one SHA-256 of it. Same code the Worker runs, here on Node's V8 and Web Crypto (workerd
// uses the same V8 and BoringSSL; absolute figures differ a little, the ratio is what to read).
// A query string seen before in the isolate is answered from edge/request/resolve-request.ts's memory;
// its column measures that against the full work, in the same run.
// Run alone: npx tsx bench/edge-cpu.ts [--iterations 10000] [--rounds 5]
import { parseArgs } from 'node:util';
import { parseConfig } from '../edge/config';
import { contentKey, derivedSeed, sha256Hex } from '../edge/request/content-key';
import { createImageQueryReader } from '../edge/request/image-query';
import { createRequestResolver } from '../edge/request/resolve-request';
import { type BenchSection, fixed, isMain, machineLine, median, printSection } from './support/stats';

export interface EdgeCpuOptions {
  /** Requests per measurement. @default 10000 */
  readonly iterations?: number;
  /** Interleaved rounds; each figure is the median. @default 5 */
  readonly rounds?: number;
}

/** The model shipped in wrangler.toml. */
const CONFIG = parseConfig({
  GPU_FUNCTION_URL: 'http://127.0.0.1:8788',
  MODELS: JSON.stringify([
    {
      name: 'sd-v1-4',
      repo: 'CompVis/stable-diffusion-v1-4',
      revision: '133a221b8aa7292a167afc5127cb63fb5005638b',
      default: true,
      defaults: { steps: 50, guidance: 7.5, scheduler: 'pndm', width: 512, height: 512 },
      limits: { min_side: 256, max_side: 1024, side_multiple: 8, max_steps: 100 },
    },
  ]),
});

const QUERIES = [
  { name: 'prompt only (seed derived)', search: '?prompt=a+lighthouse+at+dusk' },
  {
    name: 'every parameter spelled out',
    search: '?prompt=a%20lighthouse%20at%20dusk&negative_prompt=blurry&seed=42&steps=30&guidance=7.5&width=768&height=512&scheduler=euler_a&model=sd-v1-4',
  },
  { name: '1000-character CJK prompt, percent-encoded (≈ 9 KB)', search: `?prompt=${encodeURIComponent('灯'.repeat(1000))}&seed=7` },
];

const readQuery = createImageQueryReader(CONFIG.models, CONFIG.defaultModel);

/** What routes/images.ts does before its cache lookup the first time it sees a query string (all of it, before issue #12). */
async function edgeKeying(search: string): Promise<string> {
  const query = readQuery(search);
  const seed = query.seed === 'derived' ? await derivedSeed(query.request) : query.seed === 'random' ? 0 : query.seed;
  return contentKey({ ...query.request, seed });
}

/** What routes/images.ts does now for a query string this isolate has resolved before: a Map look-up. */
const resolveRequest = createRequestResolver(readQuery);
async function rememberedKeying(search: string): Promise<string> {
  return (await resolveRequest(search)).key ?? '';
}

/** The floor: parse the query the lenient way and hash it as it came. */
async function baselineKeying(search: string): Promise<string> {
  const params = new URLSearchParams(search);
  return sha256Hex(params.toString());
}

interface Measured {
  readonly wallUs: number;
  readonly cpuUs: number;
}

async function measure(run: (search: string) => Promise<string>, search: string, iterations: number): Promise<Measured> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await run(search);
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  // cpuUsage counts every thread (Web Crypto may finish digests off the main thread).
  return { wallUs: (wall * 1000) / iterations, cpuUs: (used.user + used.system) / iterations };
}

export async function runEdgeCpuBench(options: EdgeCpuOptions = {}): Promise<BenchSection> {
  const iterations = options.iterations ?? 10_000;
  const rounds = options.rounds ?? 5;
  const rows: string[] = [];
  for (const { name, search } of QUERIES) {
    await edgeKeying(search); // warm-up, and a check that the query is valid
    for (let i = 0; i < 2_000; i++) {
      await edgeKeying(search);
      await rememberedKeying(search);
      await baselineKeying(search);
    }
    const edge = { wall: [] as number[], cpu: [] as number[] };
    const again = { wall: [] as number[], cpu: [] as number[] };
    const base = { wall: [] as number[], cpu: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      for (const [run, into] of [[edgeKeying, edge], [rememberedKeying, again], [baselineKeying, base]] as const) {
        const m = await measure(run, search, iterations);
        into.wall.push(m.wallUs);
        into.cpu.push(m.cpuUs);
      }
    }
    const [ew, ec, ac, bw, bc] = [median(edge.wall), median(edge.cpu), median(again.cpu), median(base.wall), median(base.cpu)];
    rows.push(
      `| ${name} | ${fixed(ec, 1)} | ${fixed(ew, 1)} | ${fixed(ac, 2)} | ${fixed(ac / ec, 3)}× | ${fixed(bc, 1)} | ${fixed(bw, 1)} | ` +
        `${fixed(ec / bc, 1)}× |`,
    );
  }
  return {
    title: 'Edge: CPU time of query validation and key computation per request',
    lines: [
      `${iterations} requests per measurement, median of ${rounds} interleaved rounds; ${machineLine()}.`,
      'Edge, first sight of a query string (what every request paid before issue #12): `createImageQueryReader` (strict ' +
        'parse, zod schema, model limits, defaults) + `derivedSeed` when no seed + `contentKey`. Edge, seen before: the same ' +
        'query string again in the same isolate, answered by `createRequestResolver`\'s memory (no parse, no SHA-256).',
      'Baseline: `new URLSearchParams(query)` + one SHA-256 of it.',
      '',
      '| query | edge, first sight: CPU µs/request | wall µs | edge, seen before: CPU µs | seen ÷ first | baseline CPU µs | baseline wall µs | first sight ÷ baseline (CPU) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
    ],
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { iterations: { type: 'string' }, rounds: { type: 'string' } } });
  printSection(
    await runEdgeCpuBench({
      ...(values.iterations === undefined ? {} : { iterations: Number(values.iterations) }),
      ...(values.rounds === undefined ? {} : { rounds: Number(values.rounds) }),
    }),
  );
}
