// PNG encoding benchmark: this project's encoder (node:zlib) with its filter/level options
// against pngjs and fast-png, on a 512×512 picture built to look like a Stable Diffusion output
// (smooth colour fields, soft edges, fine texture and a little sensor-like noise).
// Run: npx tsx bench/png-encode.ts [iterations] [--summary]. Prints a markdown table; times are
// medians, and every ratio is against the first row (the default encoder) measured in the same run,
// candidates taking turns within each iteration. `--summary` (what `npm run bench` prints) keeps the
// default encoder, its fastest and smallest variants, and the two libraries. runPngEncodeBench() and
// sdLikeImage() are exported for bench/run.ts and the edge benches.
import { performance } from 'node:perf_hooks';
import { constants } from 'node:zlib';
import { encode as fastPngEncode } from 'fast-png';
import { PNG } from 'pngjs';
import { DEFAULT_PNG_OPTIONS, encodePng, type PngEncodeOptions } from '../gpu-function/pipeline/image/encode-png';
import { RandomState } from '../gpu-function/pipeline/random/numpy-random-state';
import { type BenchSection, isMain, machineLine, printSection } from './support/stats';

const WIDTH = 512;
const HEIGHT = 512;

/** A deterministic SD-like RGB8 picture: low-frequency colour, two soft blobs, texture, noise. */
export function sdLikeImage(width: number, height: number): Uint8Array {
  const noise = new RandomState(1234).randn(width * height * 3);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const sky = 0.5 + 0.5 * Math.sin(2.1 * u + 1.3 * v);
      const blob1 = Math.exp(-((u - 0.35) ** 2 + (v - 0.6) ** 2) / 0.02);
      const blob2 = Math.exp(-((u - 0.7) ** 2 + (v - 0.3) ** 2) / 0.05);
      const texture = v > 0.7 ? 0.08 * Math.sin(90 * u + 40 * Math.sin(9 * v)) : 0;
      const base = [
        0.25 + 0.45 * sky + 0.3 * blob1 + texture,
        0.2 + 0.3 * sky + 0.45 * blob2 + texture,
        0.35 + 0.4 * (1 - v) + 0.2 * blob1 * blob2,
      ];
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        const value = base[c]! * 255 + 3 * noise[i]!;
        out[i] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Round-robin timing: every iteration runs each candidate once, so a load spike on a shared
 * machine lands on all of them alike instead of on whichever was being measured.
 */
function measureAll(candidates: { name: string; run: () => Uint8Array }[], iterations: number): { name: string; ms: number; bytes: number }[] {
  const bytes = candidates.map((c) => {
    let size = 0;
    for (let i = 0; i < 3; i++) size = c.run().length; // warm-up (JIT, zlib tables)
    return size;
  });
  const times = candidates.map(() => [] as number[]);
  for (let i = 0; i < iterations; i++) {
    candidates.forEach((c, j) => {
      const start = performance.now();
      c.run();
      times[j]!.push(performance.now() - start);
    });
  }
  return candidates.map((c, j) => ({ name: c.name, ms: median(times[j]!), bytes: bytes[j]! }));
}

export interface PngBenchOptions {
  /** Timed runs of every candidate. @default 30 */
  readonly iterations?: number;
  /** Only the default encoder, its fastest and smallest variants, pngjs and fast-png. @default false */
  readonly summary?: boolean;
}

const strategyName = (s: number) =>
  s === constants.Z_RLE ? 'rle' : s === constants.Z_HUFFMAN_ONLY ? 'huffman-only' : s === constants.Z_FILTERED ? 'filtered' : 'default';

export function runPngEncodeBench(options: PngBenchOptions = {}): BenchSection {
  const iterations = options.iterations ?? 30;
  const rgb = sdLikeImage(WIDTH, HEIGHT);
  const rgba = new Uint8Array(WIDTH * HEIGHT * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i]!;
    rgba[j + 1] = rgb[i + 1]!;
    rgba[j + 2] = rgb[i + 2]!;
    rgba[j + 3] = 255;
  }
  const ours = (encoder: PngEncodeOptions) => {
    const o = { ...DEFAULT_PNG_OPTIONS, ...encoder };
    return { name: `encodePng filter=${o.filter} level=${o.level} strategy=${strategyName(o.strategy)}`, run: () => encodePng(rgb, WIDTH, HEIGHT, o) };
  };

  const candidates: { name: string; run: () => Uint8Array }[] = [
    {
      name: `**encodePng defaults** (filter=${DEFAULT_PNG_OPTIONS.filter}, strategy=${strategyName(DEFAULT_PNG_OPTIONS.strategy)})`,
      run: () => encodePng(rgb, WIDTH, HEIGHT),
    },
  ];
  if (options.summary === true) {
    candidates.push(ours({ filter: 'none', level: 1, strategy: constants.Z_RLE }));
    candidates.push(ours({ filter: 'adaptive', level: 9, strategy: constants.Z_DEFAULT_STRATEGY }));
  } else {
    for (const filter of ['none', 'sub', 'up', 'average', 'paeth', 'adaptive'] as const) {
      for (const level of [1, 4, 6, 9]) candidates.push(ours({ filter, level, strategy: constants.Z_DEFAULT_STRATEGY }));
      candidates.push(ours({ filter, level: 1, strategy: constants.Z_RLE }));
      candidates.push(ours({ filter, level: 1, strategy: constants.Z_HUFFMAN_ONLY }));
    }
  }
  candidates.push({
    name: 'pngjs PNG.sync.write (defaults: adaptive filter, level 9)',
    run: () => PNG.sync.write(Object.assign(new PNG({ width: WIDTH, height: HEIGHT }), { data: Buffer.from(rgba.buffer) })),
  });
  if (options.summary !== true) {
    candidates.push({
      name: 'pngjs RGB in/out, filter up, level 4',
      run: () =>
        PNG.sync.write(Object.assign(new PNG({ width: WIDTH, height: HEIGHT }), { data: Buffer.from(rgb.buffer) }), {
          inputColorType: 2,
          colorType: 2,
          inputHasAlpha: false,
          filterType: 2,
          deflateLevel: 4,
        }),
    });
  }
  candidates.push({
    name: 'fast-png encode (no filter, fflate level 3)',
    run: () => fastPngEncode({ width: WIDTH, height: HEIGHT, data: rgb, channels: 3, depth: 8 }),
  });

  const results = measureAll(candidates, iterations);
  const base = results[0]!;
  return {
    title: `PNG encoding of a ${WIDTH}×${HEIGHT} picture`,
    lines: [
      `An SD-like RGB8 image (smooth colour fields, soft edges, texture, noise), median of ${iterations} runs, candidates in turns; ${machineLine()}.`,
      `Baseline: ${base.name} = ${base.ms.toFixed(2)} ms, ${base.bytes} bytes.`,
      '',
      '| encoder | median ms | time × baseline | bytes | size × baseline |',
      '|---|---:|---:|---:|---:|',
      ...results.map((r) => `| ${r.name} | ${r.ms.toFixed(2)} | ${(r.ms / base.ms).toFixed(2)} | ${r.bytes} | ${(r.bytes / base.bytes).toFixed(3)} |`),
    ],
  };
}

if (isMain(import.meta.url)) {
  const numeric = process.argv.slice(2).find((arg) => /^\d+$/.test(arg));
  printSection(runPngEncodeBench({ iterations: Number(numeric ?? 30), summary: process.argv.includes('--summary') }));
}
