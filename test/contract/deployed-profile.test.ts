// wrangler.toml's model profiles are what a deployed edge validates against. Every request they let
// through must be one the GPU function accepts with its built-in settings (the SD 1.x defaults of
// gpu-function/config.ts, what it serves without a dreamurl.json, with the cost limits built in for
// CUDA, where it is deployed); otherwise a client's size or step count that the edge accepted would come
// back as a 502 instead of a 400. A deployed profile states its cost limits, so the edge refuses too.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { modelProfilesSchema } from '../../edge/config';
import { costLimits } from '../../contract';
import { configFromEnv } from '../../gpu-function/config';
import { BUILT_IN_BUDGETS } from '../../gpu-function/generation-settings';

const ROOT = join(import.meta.dirname, '../..');

it("wrangler.toml's profiles lie within the GPU function's built-in limits, defaults included", () => {
  const { bindings } = unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.toml')).workerOptions;
  const profiles = modelProfilesSchema.parse((bindings as Record<string, unknown>).MODELS);
  const gpu = configFromEnv({}).limits;
  expect(profiles.length).toBeGreaterThan(0);
  for (const { name, limits, defaults } of profiles) {
    expect({ name, min_side: limits.min_side >= gpu.min_side, max_side: limits.max_side <= gpu.max_side }).toEqual({ name, min_side: true, max_side: true });
    expect({ name, side_multiple: limits.side_multiple % gpu.side_multiple, max_steps: limits.max_steps <= gpu.max_steps }).toEqual({ name, side_multiple: 0, max_steps: true });
    // The profile's own defaults are checked against its limits by the schema; here, against the GPU's.
    expect([defaults.width % gpu.side_multiple, defaults.height % gpu.side_multiple]).toEqual([0, 0]);
    const budget = BUILT_IN_BUDGETS.cuda;
    expect({ name, max_pixels: limits.max_pixels, max_pixel_steps: limits.max_pixel_steps }).toEqual({
      name,
      max_pixels: expect.any(Number),
      max_pixel_steps: expect.any(Number),
    });
    const { maxPixels, maxPixelSteps } = costLimits(limits);
    expect({ name, pixels: maxPixels <= budget.maxPixels, work: maxPixelSteps <= budget.maxPixelSteps }).toEqual({ name, pixels: true, work: true });
  }
});
