// The pipeline reports where a batch's time went: its four stages of Server-Timing, and inside
// `denoise` the UNet calls and the scheduler's own arithmetic (bench/generation-stages.ts reads the
// split to give per-step figures). Only the accounting is pinned here, never a duration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFolder } from '../../../gpu-function/model/model-folder';
import { loadPipeline, type LoadedPipeline } from '../../../gpu-function/pipeline/load-pipeline';
import type { StageTimings } from '../../../gpu-function/pipeline/types';
import type { ResolvedGeneration } from '../../../contract';
import { TINY_SD } from '../../support/gpu-function-service';

let loaded: LoadedPipeline;
beforeAll(async () => {
  loaded = await loadPipeline(await readModelFolder(TINY_SD), { provider: 'cpu', intraOpThreads: 1, log: () => {} });
});
afterAll(() => loaded?.release());

const request: ResolvedGeneration = {
  prompt: 'a lighthouse at dusk',
  negative_prompt: '',
  seed: 3,
  steps: 3,
  guidance: 7.5,
  width: 32,
  height: 32,
  scheduler: 'euler',
};

const STAGES = ['tokenize', 'textEncoder', 'denoise', 'vae', 'unet', 'scheduler'] as const satisfies readonly (keyof StageTimings)[];

describe('stage timings', () => {
  it('reports every stage, and the UNet and scheduler time as parts of denoise', async () => {
    const [image] = await loaded.pipeline.generate([request]);
    const timings = image!.timings;
    expect(Object.keys(timings).sort()).toEqual([...STAGES].sort());
    for (const stage of STAGES) expect(Number.isFinite(timings[stage]), stage).toBe(true);
    // Each part ran (3 UNet calls, 3 scheduler steps), and the parts fit inside the whole.
    expect(timings.unet).toBeGreaterThan(0);
    expect(timings.scheduler).toBeGreaterThan(0);
    expect(timings.unet + timings.scheduler).toBeLessThanOrEqual(timings.denoise);
  });

  it('shares one timings record across the images of a batch', async () => {
    const [a, b] = await loaded.pipeline.generate([request, { ...request, seed: 4 }]);
    expect(a!.timings).toBe(b!.timings);
    expect(a!.timings.unet + a!.timings.scheduler).toBeLessThanOrEqual(a!.timings.denoise);
  });
});
