// The pipeline reproduces diffusers: for each request of tiny-sd-refs/manifest.json (pictures made by
// diffusers' OnnxStableDiffusionPipeline loop on the same weights), every RGB value is within 2 levels
// and at most 0.5% of values differ at all. The same holds for a second export shape (int64 timestep,
// UNet weights in external data), and a batch gives each request exactly its unbatched bytes.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFolder } from '../../../gpu-function/model/model-folder';
import { loadPipeline, type LoadedPipeline } from '../../../gpu-function/pipeline/load-pipeline';
import type { ResolvedGeneration } from '../../../contract';
import {
  expectMatchesReference,
  readReferenceManifest,
  resolvedReference as resolved,
  type ReferencePicture,
} from '../../support/reference-pictures';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const REFS = join(FIXTURES, 'tiny-sd-refs');
/** Within 2 levels per value, at most 0.5% of values differing at all. */
const BOUNDS = { maxDiff: 2, maxShare: 0.005 };

interface ManifestEntry extends ReferencePicture {
  readonly unet_timesteps: number[];
}

const manifest = await readReferenceManifest<ManifestEntry>(REFS);

const log = () => {};

describe('tiny-sd (float timestep, weights inside the graph)', () => {
  let loaded: LoadedPipeline;
  beforeAll(async () => {
    loaded = await loadPipeline(await readModelFolder(join(FIXTURES, 'tiny-sd')), { provider: 'cpu', log });
  });
  afterAll(() => loaded?.release());

  it.each(manifest.map((entry) => [entry.png, entry] as const))('reproduces diffusers: %s', async (_name, entry) => {
    await expectMatchesReference(loaded.pipeline, REFS, entry, BOUNDS);
  });

  it('gives each request of a batch the bytes it gets alone', async () => {
    const base = manifest.find((entry) => entry.request.scheduler === 'dpmpp_2m')!.request;
    // Same size, steps and scheduler; different prompts, seeds, negative prompts and guidance
    // (1.0 turns guidance off, so the batch mixes one-row and two-row requests).
    const batch: ResolvedGeneration[] = [
      resolved(base),
      resolved({ ...base, prompt: 'a lighthouse at dusk', seed: 7, guidance: 1 }),
      resolved({ ...base, prompt: 'a lighthouse at dusk', seed: 8, guidance: 4.5 }, 'fog, blur'),
      resolved({ ...base, seed: 4294967295, guidance: 12 }),
    ];
    const together = await loaded.pipeline.generate(batch);
    for (const [i, request] of batch.entries()) {
      const [alone] = await loaded.pipeline.generate([request]);
      expect(Buffer.from(together[i]!.pixels).equals(Buffer.from(alone!.pixels)), `request ${i}`).toBe(true);
    }
    // Different requests really made different pictures (the comparison above could not pass vacuously).
    expect(Buffer.from(together[1]!.pixels).equals(Buffer.from(together[2]!.pixels))).toBe(false);
  });

  it('refuses a batch whose requests need different timesteps or sizes', async () => {
    const base = resolved(manifest[0]!.request);
    await expect(loaded.pipeline.generate([base, { ...base, steps: base.steps + 1 }])).rejects.toThrow(/share size, steps and scheduler/);
    await expect(loaded.pipeline.generate([base, { ...base, width: base.width * 2 }])).rejects.toThrow(/share size, steps and scheduler/);
  });
});

describe('tiny-sd-int64-external (int64 timestep, UNet weights in weights.pb)', () => {
  let loaded: LoadedPipeline;
  beforeAll(async () => {
    loaded = await loadPipeline(await readModelFolder(join(FIXTURES, 'tiny-sd-int64-external')), { provider: 'cpu', log });
  });
  afterAll(() => loaded?.release());

  // An int64 graph is fed integer timesteps (diffusers' `np.array([t], dtype=np.int64)` truncates
  // Euler's fractional ones, so that reference does not apply); the integer schedules match as is.
  const integerTimesteps = manifest.filter((entry) => entry.unet_timesteps.every(Number.isInteger));
  it.each(integerTimesteps.map((entry) => [entry.png, entry] as const))('reproduces diffusers: %s', async (_name, entry) => {
    await expectMatchesReference(loaded.pipeline, REFS, entry, BOUNDS);
  });
});
