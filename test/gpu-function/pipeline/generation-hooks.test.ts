// The denoising loop's hooks (GenerationHooks in gpu-function/pipeline/types.ts) on the tiny-sd fixture:
// progress after every step, and requests nobody wants any more leaving their batch — the rest of the
// batch keeps exactly the bytes it gets alone, and a batch nobody wants stops within one step. Stand-in
// float16 networks (test/support/stand-in-networks.ts) count the network calls and cover the fp16 path.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFolder } from '../../../gpu-function/model/model-folder';
import { loadPipeline, type LoadedPipeline } from '../../../gpu-function/pipeline/load-pipeline';
import { StableDiffusionPipeline } from '../../../gpu-function/pipeline/stable-diffusion';
import { ClipTextConditioner } from '../../../gpu-function/pipeline/text-conditioning';
import { ClipTokenizer } from '../../../gpu-function/pipeline/tokenizer/clip-tokenizer';
import type { ResolvedGeneration } from '../../../contract';
import type { StepProgress } from '../../../gpu-function/pipeline/types';
import { TINY_SD } from '../../support/gpu-function-service';
import { standInNetworks } from '../../support/stand-in-networks';

let loaded: LoadedPipeline;
beforeAll(async () => {
  loaded = await loadPipeline(await readModelFolder(TINY_SD), { provider: 'cpu', intraOpThreads: 1, log: () => {} });
});
afterAll(() => loaded?.release());

const request = (overrides: Partial<ResolvedGeneration> = {}): ResolvedGeneration => ({
  prompt: 'a lighthouse at dusk',
  negative_prompt: '',
  seed: 11,
  steps: 4,
  guidance: 7.5,
  width: 32,
  height: 32,
  // Ancestral: each step draws fresh noise, so a request that kept another's generator would show it.
  scheduler: 'euler_a',
  ...overrides,
});

/** Guided, unguided, guided with a negative prompt: one- and two-row requests in one batch. */
const batch = [
  request(),
  request({ prompt: 'a red fox in snow', seed: 12, guidance: 1 }),
  request({ prompt: 'a quiet harbour', seed: 13, guidance: 5, negative_prompt: 'fog' }),
];

function recordSteps(): { steps: StepProgress[]; onStep: (progress: StepProgress) => void } {
  const steps: StepProgress[] = [];
  return { steps, onStep: (progress) => steps.push(progress) };
}

describe('progress', () => {
  it('reports every denoising step with the count of UNet evaluations and the requests in it', async () => {
    const { steps, onStep } = recordSteps();
    const images = await loaded.pipeline.generate(batch, { onStep });
    expect(images.every((image) => image !== undefined)).toBe(true);
    expect(steps).toEqual([1, 2, 3, 4].map((step) => ({ step, steps: 4, requests: [0, 1, 2] })));
  });

  it("counts PNDM's extra PLMS evaluation, as diffusers' progress bar does", async () => {
    const { steps, onStep } = recordSteps();
    await loaded.pipeline.generate([request({ scheduler: 'pndm', steps: 3 })], { onStep });
    expect(steps.map((p) => `${p.step}/${p.steps}`)).toEqual(['1/4', '2/4', '3/4', '4/4']);
  });
});

describe('requests no longer wanted', () => {
  it('leave the batch before the next step; the others keep the bytes they get alone', async () => {
    const { steps, onStep } = recordSteps();
    const images = await loaded.pipeline.generate(batch, {
      // Request 1's client leaves once step 2 is done.
      isWanted: (index) => index !== 1 || steps.length < 2,
      onStep,
    });
    expect(images[1]).toBeUndefined();
    expect(steps.map((p) => p.requests)).toEqual([[0, 1, 2], [0, 1, 2], [0, 2], [0, 2]]);
    for (const index of [0, 2]) {
      const [alone] = await loaded.pipeline.generate([batch[index]!]);
      expect(Buffer.from(images[index]!.pixels).equals(Buffer.from(alone!.pixels)), `request ${index}`).toBe(true);
    }
    // The two survivors differ (the comparison above is not between two copies of one picture).
    expect(Buffer.from(images[0]!.pixels).equals(Buffer.from(images[2]!.pixels))).toBe(false);
  });

  it('stop a batch nobody wants within one step', async () => {
    const { steps, onStep } = recordSteps();
    const images = await loaded.pipeline.generate(batch, { isWanted: () => steps.length < 1, onStep });
    expect(images).toEqual([undefined, undefined, undefined]);
    expect(steps.map((p) => p.step)).toEqual([1]);
  });

  it('are not started at all when nobody wants them from the start', async () => {
    const { steps, onStep } = recordSteps();
    expect(await loaded.pipeline.generate(batch, { isWanted: () => false, onStep })).toEqual([undefined, undefined, undefined]);
    expect(steps).toEqual([]);
  });

  it('are not decoded when they leave after the last step', async () => {
    const { steps, onStep } = recordSteps();
    const images = await loaded.pipeline.generate(batch, { isWanted: (index) => index !== 2 || steps.length < 4, onStep });
    expect(steps.map((p) => p.requests)).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 1, 2]]);
    expect(images.map((image) => image === undefined)).toEqual([false, false, true]);
    const [alone] = await loaded.pipeline.generate([batch[1]!]);
    expect(Buffer.from(images[1]!.pixels).equals(Buffer.from(alone!.pixels))).toBe(true);
  });
});

describe('with float16 stand-in networks', () => {
  async function standInPipeline() {
    const networks = standInNetworks({ float: 'float16', kind: 'computed', hidden: 64 });
    const pipeline = new StableDiffusionPipeline({
      conditioner: new ClipTextConditioner(await ClipTokenizer.fromFolder(join(TINY_SD, 'tokenizer')), networks.textEncoder),
      unet: networks.unet,
      vaeDecoder: networks.vaeDecoder,
      schedulerConfig: JSON.parse(await readFile(join(TINY_SD, 'scheduler/scheduler_config.json'), 'utf8')),
      vaeScalingFactor: 0.18215,
    });
    return { pipeline, calls: networks.calls };
  }

  it('narrow float16 embeddings and inputs to the requests left, with the bytes each gets alone', async () => {
    const { pipeline } = await standInPipeline();
    const { steps, onStep } = recordSteps();
    const images = await pipeline.generate(batch, { isWanted: (index) => index !== 0 || steps.length < 1, onStep });
    expect(steps.map((p) => p.requests)).toEqual([[0, 1, 2], [1, 2], [1, 2], [1, 2]]);
    for (const index of [1, 2]) {
      const [alone] = await pipeline.generate([batch[index]!]);
      expect(Buffer.from(images[index]!.pixels).equals(Buffer.from(alone!.pixels)), `request ${index}`).toBe(true);
    }
  });

  it('stop before the next UNet call once nobody wants the batch, and make no VAE call', async () => {
    const { pipeline, calls } = await standInPipeline();
    // Nobody wants the batch any more once its second step is done.
    const images = await pipeline.generate(batch, { isWanted: () => calls.unet < 2 });
    expect(images).toEqual([undefined, undefined, undefined]);
    expect([calls.textEncoder, calls.unet, calls.vaeDecoder]).toEqual([1, 2, 0]);
  });
});
