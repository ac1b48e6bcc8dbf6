// What the CPU adds to a picture outside onnxruntime, at Stable Diffusion 1.x shapes: 512×512 (latents
// 4×64×64), guidance on (two UNet rows per image), fp16 graphs as the recommended GPU exports declare them.
// The networks are stand-ins that hand back a prepared output at once (test/support/stand-in-networks.ts),
// so every millisecond measured is the project's own JavaScript: the work that sits on the GPU's critical
// path, since the next UNet call cannot start before it is done. Issue #12's budget for it is 11 ms per
// 512² picture (2 % of the 0.55 s a 50-step picture takes on a data-centre GPU).
//
// "Before" is the pipeline at BASELINE_COMMIT (bench/support/baseline-code.ts), loaded from git into the
// same process and measured in turns with today's, so the ratios hold whatever the machine's load.
// Run alone: npx tsx bench/cpu-overhead.ts [--rounds 5] [--steps 50]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as after from './support/cpu-overhead-stages';
import { importBaseline } from './support/baseline-code';
import { type BenchSection, fixed, isMain, machineLine, median } from './support/stats';
import { standInNetworks } from '../test/support/stand-in-networks';
import type { ModelSession } from '../gpu-function/pipeline/onnx-runtime';
import type { StableDiffusionPipeline } from '../gpu-function/pipeline/stable-diffusion';
import { ClipTextConditioner } from '../gpu-function/pipeline/text-conditioning';
import { ClipTokenizer } from '../gpu-function/pipeline/tokenizer/clip-tokenizer';
import type { ResolvedGeneration, SchedulerName } from '../contract';
import type { GeneratedImage } from '../gpu-function/pipeline/types';

export interface CpuOverheadOptions {
  /** Interleaved rounds; each figure is the median. @default 5 */
  readonly rounds?: number;
  /** Denoising steps of a whole picture. @default 50 */
  readonly steps?: number;
}

/** Issue #12: ≤ 2 % of a 0.55 s picture. */
export const BUDGET_MS_PER_PICTURE = 11;
const SIDE = 512;
const BATCHES = [1, 4, 8] as const;
const WHOLE_PICTURE_SCHEDULERS: readonly SchedulerName[] = ['pndm', 'euler_a'];
const TINY_SD = join(import.meta.dirname, '../test/fixtures/tiny-sd');

/** The baseline takes the tokenizer and text encoder itself; today's pipeline takes them as a text conditioner. */
type PipelineParts = ConstructorParameters<typeof StableDiffusionPipeline>[0] & {
  readonly tokenizer: ClipTokenizer;
  readonly textEncoder: ModelSession;
};
type PipelineClass = new (
  parts: PipelineParts,
) => {
  generate(batch: readonly ResolvedGeneration[]): Promise<readonly (GeneratedImage | undefined)[]>;
};

interface Versions {
  readonly before: PipelineClass;
  readonly after: PipelineClass;
}

async function loadVersions(): Promise<Versions> {
  const old = await importBaseline<typeof import('../gpu-function/pipeline/stable-diffusion')>(
    'gpu-function/pipeline/stable-diffusion.ts',
  );
  const current = await import('../gpu-function/pipeline/stable-diffusion');
  return { before: old.StableDiffusionPipeline, after: current.StableDiffusionPipeline };
}

export async function runCpuOverheadBench(options: CpuOverheadOptions = {}): Promise<BenchSection> {
  const rounds = options.rounds ?? 5;
  const steps = options.steps ?? 50;
  const stages = await after.measureStages(rounds, steps);
  const whole = await measureWholePictures(rounds, steps);
  return {
    title: `CPU time outside onnxruntime per picture, SD 1.x 512² (before → after, in one run)`,
    lines: [
      `Latents 4×64×64, guidance 7.5 (two UNet rows per image), fp16 graphs; stand-in networks answer at once, so every ` +
        `figure is the pipeline's own JavaScript, timed as CPU time (process.cpuUsage: on a shared machine, the work ` +
        `rather than the wait for a core; on an idle core the same). Before = commit ${after.BASELINE_SHORT}, loaded from ` +
        `git into the same process; median of ${rounds} interleaved rounds; ${machineLine()}.`,
      '',
      ...stages,
      '',
      ...whole,
    ],
  };
}

async function measureWholePictures(rounds: number, steps: number): Promise<string[]> {
  const versions = await loadVersions();
  const tokenizer = await ClipTokenizer.fromFolder(join(TINY_SD, 'tokenizer'));
  const schedulerConfig = JSON.parse(await readFile(join(TINY_SD, 'scheduler/scheduler_config.json'), 'utf8'));
  const build = (Pipeline: PipelineClass) => {
    const networks = standInNetworks({ float: 'float16', kind: 'constant' });
    const conditioner = new ClipTextConditioner(tokenizer, networks.textEncoder);
    return new Pipeline({ tokenizer, ...networks, conditioner, schedulerConfig, vaeScalingFactor: 0.18215 });
  };
  const pipelines = { before: build(versions.before), after: build(versions.after) };
  const batchOf = (scheduler: SchedulerName, size: number): ResolvedGeneration[] =>
    Array.from({ length: size }, (_, i) => ({
      prompt: `a lighthouse at dusk, oil painting, variation ${i}`,
      negative_prompt: '',
      seed: 1000 + i,
      steps,
      guidance: 7.5,
      width: SIDE,
      height: SIDE,
      scheduler,
    }));

  interface Sample {
    readonly perPicture: number;
    /** Per picture: PNG encoding inside the batch (before only), and the denoising loop per step. */
    readonly png: number;
    readonly perStep: number;
    /** Per picture, the pipeline's stages (its clock times apportioned to the CPU time): text, denoising, VAE + RGB8, the rest. */
    readonly split: readonly [number, number, number, number];
  }
  const samples = new Map<string, Sample[]>();
  const once = async (version: keyof Versions, scheduler: SchedulerName, size: number): Promise<void> => {
    const batch = forVersion(version, batchOf(scheduler, size));
    // A pause first, so V8's helper threads finish sweeping the previous run's garbage before the CPU
    // clock starts (process.cpuUsage counts them; the baseline allocates far more than today's code).
    if (process.env.NO_PAUSE === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    const [cpu, wall] = [after.cpuMicroseconds(), performance.now()];
    const images = await pipelines[version].generate(batch);
    const ms = (after.cpuMicroseconds() - cpu) / 1000;
    // The pipeline times its stages by the clock; their shares of the clock time apportion the CPU time.
    const share = ms / (performance.now() - wall);
    const timings = images[0]!.timings as GeneratedImage['timings'] & { png?: number };
    const key = `${version}/${scheduler}/${size}`;
    const list = samples.get(key) ?? [];
    const [text, denoise, decode] = [timings.tokenize + timings.textEncoder, timings.denoise, timings.vae].map(
      (t) => (t * share) / size,
    ) as [number, number, number];
    list.push({
      perPicture: ms / size,
      png: ((timings.png ?? 0) * share) / size,
      perStep: denoise / steps,
      split: [text, denoise, decode, Math.max(0, ms / size - text - denoise - decode)],
    });
    samples.set(key, list);
  };
  // Warm both versions' code paths (JIT, the float16 tables) on every shape before timing.
  for (const version of ['before', 'after'] as const) {
    for (const scheduler of WHOLE_PICTURE_SCHEDULERS)
      await pipelines[version].generate(forVersion(version, batchOf(scheduler, 1)));
  }
  for (let round = 0; round < rounds; round++) {
    for (const scheduler of WHOLE_PICTURE_SCHEDULERS) {
      for (const size of BATCHES)
        for (const version of ['before', 'after'] as const) await once(version, scheduler, size);
    }
  }

  const pick = (key: string, f: (s: Sample) => number) => median(samples.get(key)!.map(f));
  const lines = [
    `**Whole pictures** (\`generate()\` with stand-in networks, ${steps} steps, batches of 1, 4 and 8): CPU milliseconds of ` +
      `JavaScript per picture on the batch's path — what the next batch waits for. Before, that included the ` +
      `picture's PNG (the share in brackets); after, the batch returns pixels and each PNG is encoded after it, ` +
      `while the next batch runs (its cost is the PNG row above; the throughput it gains is in the simulated-GPU ` +
      `bench). The after-split uses the pipeline's own stage clocks: text (tokenizer and text encoder), denoising (each ` +
      `seed's latents, then every step: UNet input, guidance, scheduler), VAE + RGB8 (the decoder feed, RGB8 and its ` +
      `NaN check), and the rest (batch set-up and results). Budget: ${BUDGET_MS_PER_PICTURE} ms per picture.`,
    '',
    '| scheduler | batch | before ms/picture (PNG) | after ms/picture | after ÷ before | denoising µs/step before → after | after by stage: text · denoising · VAE + RGB8 · rest (ms/picture) | after within budget |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const scheduler of WHOLE_PICTURE_SCHEDULERS) {
    for (const size of BATCHES) {
      const [b, a] = [`before/${scheduler}/${size}`, `after/${scheduler}/${size}`];
      const [beforeMs, afterMs] = [pick(b, (s) => s.perPicture), pick(a, (s) => s.perPicture)];
      lines.push(
        `| ${scheduler} | ${size} | ${fixed(beforeMs, 1)} (${fixed(
          pick(b, (s) => s.png),
          1,
        )}) | ${fixed(afterMs, 1)} | ` +
          `${fixed(afterMs / beforeMs)}× | ${fixed(pick(b, (s) => s.perStep) * 1000, 0)} → ${fixed(pick(a, (s) => s.perStep) * 1000, 0)} | ` +
          `${[0, 1, 2, 3]
            .map((k) =>
              fixed(
                pick(a, (s) => s.split[k]!),
                2,
              ),
            )
            .join(' · ')} | ` +
          `${afterMs <= BUDGET_MS_PER_PICTURE ? 'yes' : 'no'} |`,
      );
    }
  }
  return lines;
}

/** The baseline predates contract/'s snake_case resolved request: it reads `negativePrompt`. */
function forVersion(version: keyof Versions, batch: ResolvedGeneration[]): ResolvedGeneration[] {
  return version === 'after'
    ? batch
    : batch.map((request) => ({ ...request, negativePrompt: request.negative_prompt }));
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, steps: { type: 'string' } } });
  const { printSection } = await import('./support/stats');
  printSection(
    await runCpuOverheadBench({
      ...(values.rounds === undefined ? {} : { rounds: Number(values.rounds) }),
      ...(values.steps === undefined ? {} : { steps: Number(values.steps) }),
    }),
  );
}
