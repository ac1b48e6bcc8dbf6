// PNG encoding benchmark: this project's encoder (node:zlib) with its filter/level options
// against pngjs and fast-png, on a 512×512 picture built to look like a Stable Diffusion output
// (smooth colour fields, soft edges, fine texture and a little sensor-like noise).
// Run: npx tsx bench/png-encode.ts [iterations]. Prints a markdown table; times are medians,
// and every ratio is against the first row (the default encoder) measured in the same run,
// candidates taking turns within each iteration.
import { performance } from 'node:perf_hooks';
import { constants } from 'node:zlib';
import { encode as fastPngEncode } from 'fast-png';
import { PNG } from 'pngjs';
import { DEFAULT_PNG_OPTIONS, encodePng, type PngEncodeOptions } from '../gpu-function/pipeline/image/encode-png';
import { RandomState } from '../gpu-function/pipeline/random/numpy-random-state';

const WIDTH = 512;
const HEIGHT = 512;
const iterations = Number(process.argv[2] ?? 30);

/** A deterministic SD-like RGB8 picture: low-frequency colour, two soft blobs, texture, noise. */
function sdLikeImage(width: number, height: number): Uint8Array {
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
function measureAll(candidates: { name: string; run: () => Uint8Array }[]): { name: string; ms: number; bytes: number }[] {
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

const rgb = sdLikeImage(WIDTH, HEIGHT);
const rgba = new Uint8Array(WIDTH * HEIGHT * 4);
for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
  rgba[j] = rgb[i]!;
  rgba[j + 1] = rgb[i + 1]!;
  rgba[j + 2] = rgb[i + 2]!;
  rgba[j + 3] = 255;
}

const strategyName = (s: number) =>
  s === constants.Z_RLE ? 'rle' : s === constants.Z_HUFFMAN_ONLY ? 'huffman-only' : s === constants.Z_FILTERED ? 'filtered' : 'default';
const ours = (options: PngEncodeOptions) => {
  const o = { ...DEFAULT_PNG_OPTIONS, ...options };
  return { name: `encodePng filter=${o.filter} level=${o.level} strategy=${strategyName(o.strategy)}`, run: () => encodePng(rgb, WIDTH, HEIGHT, o) };
};

const candidates: { name: string; run: () => Uint8Array }[] = [
  {
    name: `**encodePng defaults** (filter=${DEFAULT_PNG_OPTIONS.filter}, strategy=${strategyName(DEFAULT_PNG_OPTIONS.strategy)})`,
    run: () => encodePng(rgb, WIDTH, HEIGHT),
  },
];
for (const filter of ['none', 'sub', 'up', 'average', 'paeth', 'adaptive'] as const) {
  for (const level of [1, 4, 6, 9]) candidates.push(ours({ filter, level, strategy: constants.Z_DEFAULT_STRATEGY }));
  candidates.push(ours({ filter, level: 1, strategy: constants.Z_RLE }));
  candidates.push(ours({ filter, level: 1, strategy: constants.Z_HUFFMAN_ONLY }));
}
candidates.push({
  name: 'pngjs PNG.sync.write (defaults: adaptive filter, level 9)',
  run: () => PNG.sync.write(Object.assign(new PNG({ width: WIDTH, height: HEIGHT }), { data: Buffer.from(rgba.buffer) })),
});
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
candidates.push({
  name: 'fast-png encode (no filter, fflate level 3)',
  run: () => fastPngEncode({ width: WIDTH, height: HEIGHT, data: rgb, channels: 3, depth: 8 }),
});

const results = measureAll(candidates);
const base = results[0]!;
console.log(`PNG encoding of a ${WIDTH}×${HEIGHT} SD-like RGB8 image, median of ${iterations} runs, Node ${process.version}`);
console.log(`baseline: ${base.name} = ${base.ms.toFixed(2)} ms, ${base.bytes} bytes\n`);
console.log('| encoder | median ms | time × baseline | bytes | size × baseline |');
console.log('|---|---:|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${r.name} | ${r.ms.toFixed(2)} | ${(r.ms / base.ms).toFixed(2)} | ${r.bytes} | ${(r.bytes / base.bytes).toFixed(3)} |`);
}
