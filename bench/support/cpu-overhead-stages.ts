// The per-stage half of bench/cpu-overhead.ts: each piece of JavaScript the denoising loop runs per step
// and per picture, at SD 1.x 512² shapes, as it was at the baseline commit and as it is now, timed in
// turns. "Before" calls the old functions the way the old loop called them (allocating a new array per
// call); "after" calls today's the way today's loop does (into buffers allocated once per batch).
import { BASELINE_COMMIT, importBaseline } from './baseline-code';
import { fixed, median } from './stats';
import { applyGuidance, buildUnetRows } from '../../gpu-function/pipeline/classifier-free-guidance';
import { FloatFeed } from '../../gpu-function/pipeline/float-feed';
import { float32ToFloat16Array } from '../../gpu-function/pipeline/float16';
import { encodePng } from '../../gpu-function/pipeline/image/encode-png';
import { decoderOutputToRgb8, float16ImageToRgb8 } from '../../gpu-function/pipeline/image/to-rgb8';
import type { HostTensor } from '../../gpu-function/pipeline/onnx-runtime';
import { RandomState } from '../../gpu-function/pipeline/random/numpy-random-state';
import { createScheduler } from '../../gpu-function/pipeline/schedulers';
import type { ResolvedGeneration, SchedulerName } from '../../contract';

export const BASELINE_SHORT = BASELINE_COMMIT.slice(0, 7);

const LATENT = 4 * 64 * 64;
const SCHEDULERS: readonly SchedulerName[] = ['pndm', 'ddim', 'euler', 'euler_a', 'dpmpp_2m', 'lcm'];
/** SD 1.4's scheduler config (the tiny-sd fixture ships it). */
const SD_SCHEDULER_CONFIG = {
  _class_name: 'PNDMScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
};

interface Old {
  readonly float16: typeof import('../../gpu-function/pipeline/float16');
  readonly runtime: Pick<typeof import('../../gpu-function/pipeline/onnx-runtime'), 'readFloat32'>;
  /** The old applyGuidance: float32 noise in, new arrays out. */
  readonly guidance: {
    applyGuidance(
      noise: Float32Array,
      rows: unknown,
      batch: readonly ResolvedGeneration[],
      latentSize: number,
    ): Float32Array[];
  };
  readonly schedulers: Pick<typeof import('../../gpu-function/pipeline/schedulers'), 'createScheduler'>;
  readonly rgb8: Pick<typeof import('../../gpu-function/pipeline/image/to-rgb8'), 'decodedImageToRgb8'>;
  readonly random: Pick<typeof import('../../gpu-function/pipeline/random/numpy-random-state'), 'RandomState'>;
}

async function loadOld(): Promise<Old> {
  return {
    float16: await importBaseline('gpu-function/pipeline/float16.ts'),
    runtime: await importBaseline('gpu-function/pipeline/onnx-runtime.ts'),
    guidance: await importBaseline('gpu-function/pipeline/classifier-free-guidance.ts'),
    schedulers: await importBaseline('gpu-function/pipeline/schedulers/index.ts'),
    rgb8: await importBaseline('gpu-function/pipeline/image/to-rgb8.ts'),
    random: await importBaseline('gpu-function/pipeline/random/numpy-random-state.ts'),
  };
}

/** This process's CPU time in microseconds (user + system): the work done, not the wait for a core. */
export function cpuMicroseconds(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * CPU microseconds per call: `run` repeated for at least `ms` milliseconds of CPU time, after a short
 * warm-up. CPU time rather than wall time, because on a shared machine a benchmark also waits for a core;
 * on an idle core the two agree.
 */
function microseconds(run: () => void, ms = 120): number {
  for (let i = 0; i < 3; i++) run();
  let calls = 0;
  const started = cpuMicroseconds();
  let elapsed = 0;
  while (elapsed < ms * 1000) {
    run();
    calls += 1;
    elapsed = cpuMicroseconds() - started;
  }
  return elapsed / calls;
}

/** Values like a UNet's or VAE's fp16 output: smooth, signed, of the given amplitude. */
function float16Values(count: number, amplitude: number): Uint16Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = Math.sin(i * 0.0137) * Math.cos(i * 0.00071) * amplitude;
  return float32ToFloat16Array(values);
}

interface Stage {
  readonly name: string;
  readonly perPicture: boolean;
  readonly before: () => void;
  readonly after: () => void;
}

function stages(old: Old, steps: number): Stage[] {
  const request: ResolvedGeneration = {
    prompt: 'a lighthouse',
    negative_prompt: '',
    seed: 1,
    steps,
    guidance: 7.5,
    width: 512,
    height: 512,
    scheduler: 'euler_a',
  };
  const rows = buildUnetRows([request]);
  const latents = new RandomState(7).randn(LATENT);
  const scaled = new Float32Array(LATENT);
  const unetOutput: HostTensor = { type: 'float16', data: float16Values(2 * LATENT, 1), dims: [2, 4, 64, 64] };
  const prediction = new Float32Array(LATENT);
  const vaeOutput = float16Values(3 * 512 * 512, 1.1);
  const feed = new FloatFeed(
    { path: 'unet', inputs: { sample: { name: 'sample', type: 'float16', shape: [], rank: 4 } } },
    'sample',
    [2, 4, 64, 64],
  );

  const eulerA = {
    before: old.schedulers.createScheduler('euler_a', SD_SCHEDULER_CONFIG),
    after: createScheduler('euler_a', SD_SCHEDULER_CONFIG),
  };
  eulerA.before.setTimesteps(steps);
  eulerA.after.setTimesteps(steps);
  const t = eulerA.after.timesteps[0]!;

  /** A whole `steps`-step loop of one scheduler, per step: the model output is a fixed noise prediction. */
  const loop = (name: SchedulerName, version: 'before' | 'after') => () => {
    // Each version's own generator: the ancestral schedulers' fresh noise is part of their step.
    const noise = version === 'before' ? new old.random.RandomState(3) : new RandomState(3);
    if (version === 'before') {
      const scheduler = old.schedulers.createScheduler(name, SD_SCHEDULER_CONFIG);
      scheduler.setTimesteps(steps);
      let x: Float32Array = latents.slice();
      for (const step of scheduler.timesteps) x = scheduler.step(prediction, step, x, noise);
    } else {
      const scheduler = createScheduler(name, SD_SCHEDULER_CONFIG);
      scheduler.setTimesteps(steps);
      const x = latents.slice();
      for (const step of scheduler.timesteps) scheduler.step(prediction, step, x, noise, x);
    }
  };
  prediction.set(latents);
  for (let i = 0; i < LATENT; i++) prediction[i] = Math.fround(prediction[i]! * 0.1);

  return [
    {
      name: 'scale_model_input (euler_a)',
      perPicture: false,
      before: () => eulerA.before.scaleModelInput(latents, t),
      after: () => eulerA.after.scaleModelInput(latents, t, scaled),
    },
    {
      name: 'UNet input: 2 rows float32 → float16',
      perPicture: false,
      before: () => {
        const sample = new Float32Array(2 * LATENT);
        sample.set(latents, 0);
        sample.set(latents, LATENT);
        old.float16.float32ToFloat16Array(sample);
      },
      after: () => {
        feed.write(latents, 0);
        feed.copy(0, LATENT, LATENT);
      },
    },
    {
      name: 'UNet output float16 → guided noise prediction',
      perPicture: false,
      before: () => old.guidance.applyGuidance(old.runtime.readFloat32(unetOutput), rows, [request], LATENT),
      after: () => applyGuidance(unetOutput, rows, [request], LATENT, [prediction]),
    },
    ...SCHEDULERS.map(
      (name): Stage => ({
        name: `scheduler step: ${name}`,
        perPicture: false,
        before: loop(name, 'before'),
        after: loop(name, 'after'),
      }),
    ),
    {
      // The initial latents, as stable-diffusion.ts draws them: a generator per picture, then one randn.
      name: 'RandomState(seed).randn of a 512² latent (per picture)',
      perPicture: true,
      before: () => new old.random.RandomState(11).randn(LATENT),
      after: () => new RandomState(11).randn(LATENT),
    },
    {
      // After: the SIMD kernel with its NaN check (the table where WebAssembly SIMD is missing).
      name: 'VAE output float16 → RGB8 (per picture)',
      perPicture: true,
      before: () => old.rgb8.decodedImageToRgb8(old.float16.float16ToFloat32Array(vaeOutput), 0, 512, 512),
      after: () => decoderOutputToRgb8({ type: 'float16', data: vaeOutput, dims: [1, 3, 512, 512] }, 1, 512, 512),
    },
  ];
}

/** Markdown lines: one row per stage, µs before and after, and the ratio. */
export async function measureStages(rounds: number, steps: number): Promise<string[]> {
  const old = await loadOld();
  const list = stages(old, steps);
  const times = new Map<string, { before: number[]; after: number[] }>(
    list.map((s) => [s.name, { before: [], after: [] }]),
  );
  const pixels = float16ImageToRgb8(float16Values(3 * 512 * 512, 1.1), 0, 512, 512);
  const png: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const stage of list) {
      // A scheduler "stage" runs a whole loop: divide by its step count for a per-step figure.
      const per = stage.name.startsWith('scheduler step') ? steps : 1;
      times.get(stage.name)!.before.push(microseconds(stage.before) / per);
      times.get(stage.name)!.after.push(microseconds(stage.after) / per);
    }
    png.push(microseconds(() => encodePng(pixels, 512, 512), 300));
  }
  const lines = [
    `**By stage** (CPU µs; per denoising step of one 512² image unless marked per picture; a scheduler's step is its ` +
      `${steps}-step loop divided by ${steps}, euler_a's including its ${LATENT} fresh normal draws per step):`,
    '',
    '| stage | before µs | after µs | after ÷ before |',
    '|---|---:|---:|---:|',
  ];
  for (const stage of list) {
    const { before, after } = times.get(stage.name)!;
    lines.push(
      `| ${stage.name} | ${fixed(median(before), 1)} | ${fixed(median(after), 1)} | ${fixed(median(after) / median(before), 3)}× |`,
    );
  }
  lines.push(
    `| PNG encode of the 512² picture (per picture; the same encoder: before inside the batch, after it) | ` +
      `${fixed(median(png), 0)} | ${fixed(median(png), 0)} | 1× |`,
  );
  return lines;
}
