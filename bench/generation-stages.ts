// Where a generation's time goes (by default on the tiny-sd fixture with the CPU provider): the pipeline's own
// stage timings (StageTimings: tokenize, text encoder, denoise split into UNet calls and scheduler
// arithmetic, VAE + RGB8), and, by timing every onnxruntime session.run from outside the pipeline, the
// share of the whole that is spent outside onnxruntime (tokenizer, noise, schedulers, guidance, tensor
// copies, RGB conversion) — the part of a batch this project's TypeScript is responsible for. (The PNG is
// encoded per request after its batch; bench/simulated-gpu.ts measures what that does for throughput.) The figures of
// one run are ratios of each other; the tiny model's networks are far cheaper than SD's, so on a real
// model the share outside onnxruntime is much smaller still.
// Run alone: npx tsx bench/generation-stages.ts [--runs 10] [--steps 20] [--model <a folder or Hub id>]
//   [--provider cpu|cuda] [--sizes 64,128] [--guidance 7.5]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hubSettingsFromEnv } from '../gpu-function/model/hub-settings';
import { resolveModel } from '../gpu-function/model/resolve-model';
import { defaultSchedulerName } from '../gpu-function/pipeline/schedulers';
import { openModelSession, type ModelSession } from '../gpu-function/pipeline/onnx-runtime';
import { ClipTextConditioner } from '../gpu-function/pipeline/text-conditioning';
import { StableDiffusionPipeline } from '../gpu-function/pipeline/stable-diffusion';
import { ClipTokenizer } from '../gpu-function/pipeline/tokenizer/clip-tokenizer';
import type { StageTimings } from '../gpu-function/pipeline/types';
import type { ResolvedGeneration } from '../contract';
import { type BenchSection, fixed, isMain, machineLine, median, printSection } from './support/stats';

export interface GenerationStagesOptions {
  /** Timed generations per size (after 2 untimed ones). @default 10 */
  readonly runs?: number;
  /** @default 20 (the fixture's default) */
  readonly steps?: number;
  /** A local model folder in the diffusers ONNX layout. @default the tiny-sd test fixture */
  readonly model?: string;
  /** @default 'cpu' ('cuda' on a GPU machine, see BENCHMARKS.md's runbook) */
  readonly provider?: 'cpu' | 'cuda';
  /** Sides of the square pictures. @default [64, 128] (the tiny UNet's attention makes 256² take ~1 s a step) */
  readonly sizes?: readonly number[];
  /** @default 7.5 (two UNet rows per step); 0 for SD-Turbo */
  readonly guidance?: number;
}

const TINY_SD = join(import.meta.dirname, '../test/fixtures/tiny-sd');

/** A session whose run() adds its wall time to `spent.ms`: time inside onnxruntime, tensor conversion included. */
function timed(session: ModelSession, spent: { ms: number }): ModelSession {
  return {
    path: session.path,
    provider: session.provider,
    inputs: session.inputs,
    outputs: session.outputs,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const started = performance.now();
      try {
        return await session.run(feeds);
      } finally {
        spent.ms += performance.now() - started;
      }
    },
    release: () => session.release(),
  };
}

interface Sample {
  readonly timings: StageTimings;
  readonly totalMs: number;
  readonly onnxMs: number;
}

export async function runGenerationStagesBench(options: GenerationStagesOptions = {}): Promise<BenchSection> {
  const runs = options.runs ?? 10;
  const steps = options.steps ?? 20;
  const provider = options.provider ?? 'cpu';
  const sizes = options.sizes ?? [64, 128];
  const guidance = options.guidance ?? 7.5;
  // A folder, or a Hub id brought into the Hugging Face cache as the service would (HF_* variables apply).
  const folder = await resolveModel(options.model ?? TINY_SD, { ...hubSettingsFromEnv(process.env), log: () => {} });
  const scheduler = defaultSchedulerName(folder.schedulerConfig);
  const sessionOptions = { provider, log: () => {} };
  const spent = { ms: 0 };
  const sessions = [
    await openModelSession(folder.graphs.textEncoder, sessionOptions),
    await openModelSession(folder.graphs.unet, sessionOptions),
    await openModelSession(folder.graphs.vaeDecoder, sessionOptions),
  ] as const;
  const pipeline = new StableDiffusionPipeline({
    conditioner: new ClipTextConditioner(await ClipTokenizer.fromFolder(folder.tokenizerDir), timed(sessions[0], spent)),
    unet: timed(sessions[1], spent),
    vaeDecoder: timed(sessions[2], spent),
    schedulerConfig: folder.schedulerConfig,
    vaeScalingFactor: folder.vaeScalingFactor,
  });
  const request = (side: number, seed: number): ResolvedGeneration => ({
    prompt: 'a lighthouse at dusk, oil painting',
    negative_prompt: '',
    seed,
    steps,
    guidance,
    width: side,
    height: side,
    scheduler,
  });
  const once = async (side: number, seed: number): Promise<Sample> => {
    spent.ms = 0;
    const started = performance.now();
    const [image] = await pipeline.generate([request(side, seed)]);
    return { timings: image!.timings, totalMs: performance.now() - started, onnxMs: spent.ms };
  };
  try {
    const samples = new Map<number, Sample[]>(sizes.map((side) => [side, []]));
    for (const side of sizes) for (let i = 0; i < 2; i++) await once(side, 1000 + i); // warm-up
    for (let i = 0; i < runs; i++) for (const side of sizes) samples.get(side)!.push(await once(side, i));

    const cell = (side: number, pick: (s: Sample) => number, digits = 2) => fixed(median(samples.get(side)!.map(pick)), digits);
    const row = (label: string, pick: (s: Sample) => number, digits = 2) => `| ${label} | ${sizes.map((side) => cell(side, pick, digits)).join(' | ')} |`;
    const t = (s: Sample) => s.timings;
    return {
      title: `Generation path: per-stage times on ${options.model ?? 'the tiny-sd fixture'} (${provider})`,
      lines: [
        `One image, ${steps} steps, ${scheduler} (the model's own), guidance ${guidance}${guidance > 1 ? ' (two UNet rows per step)' : ''}, ` +
          `batch of 1; median of ${runs} runs per size, sizes in turns; onnxruntime-node ${provider} provider with the ` +
          `service's session settings; ${machineLine()}.`,
        '',
        `| stage (ms) | ${sizes.map((side) => `${side}×${side}`).join(' | ')} |`,
        `|---|${sizes.map(() => '---:').join('|')}|`,
        row('tokenize', (s) => t(s).tokenize, 3),
        row('text encoder', (s) => t(s).textEncoder),
        row('UNet, per step', (s) => t(s).unet / steps),
        row('scheduler (scale_model_input + step), per step', (s) => t(s).scheduler / steps, 3),
        row('rest of denoising (latents, guidance, input assembly), total', (s) => t(s).denoise - t(s).unet - t(s).scheduler),
        row('VAE decode + RGB8', (s) => t(s).vae),
        row('**whole generation**', (s) => s.totalMs),
        row('inside onnxruntime (3 networks, all calls)', (s) => s.onnxMs),
        row('**outside onnxruntime, % of the whole**', (s) => (100 * (s.totalMs - s.onnxMs)) / s.totalMs, 1),
      ],
    };
  } finally {
    await Promise.all(sessions.map((session) => session.release()));
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      steps: { type: 'string' },
      model: { type: 'string' },
      provider: { type: 'string' },
      sizes: { type: 'string' },
      guidance: { type: 'string' },
    },
  });
  if (values.provider !== undefined && values.provider !== 'cpu' && values.provider !== 'cuda') {
    throw new Error(`--provider must be cpu or cuda, got ${values.provider}`);
  }
  printSection(
    await runGenerationStagesBench({
      ...(values.runs === undefined ? {} : { runs: Number(values.runs) }),
      ...(values.steps === undefined ? {} : { steps: Number(values.steps) }),
      ...(values.model === undefined ? {} : { model: values.model }),
      ...(values.provider === undefined ? {} : { provider: values.provider }),
      ...(values.sizes === undefined ? {} : { sizes: values.sizes.split(',').map(Number) }),
      ...(values.guidance === undefined ? {} : { guidance: Number(values.guidance) }),
    }),
  );
}
