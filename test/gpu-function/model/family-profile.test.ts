// Which family a model folder is, and the defaults and limits that follows: SDXL at 1024², SDXL-Turbo
// at 512² in one step without guidance, SD 1.x/2.x unchanged; the folder's dreamurl.json and the
// environment still win, in that order.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromEnv, settingsForModel } from '../../../gpu-function/config';
import { modelFamilyOf, profileForFamily } from '../../../gpu-function/model/family-profile';
import { readModelFolder } from '../../../gpu-function/model/model-folder';
import { readModelProfile } from '../../../gpu-function/model/model-profile';

const FIXTURES = join(import.meta.dirname, '../../fixtures');

describe('model families', () => {
  it.each([
    ['tiny-sd', 'stable-diffusion'],
    ['tiny-sd-int64-external', 'stable-diffusion'],
    ['tiny-sdxl', 'stable-diffusion-xl'],
    ['tiny-sdxl-turbo', 'stable-diffusion-xl-turbo'],
  ])('%s is %s', async (fixture, family) => {
    expect(modelFamilyOf(await readModelFolder(join(FIXTURES, fixture)))).toBe(family);
  });

  it.each([
    ['stable-diffusion', { steps: 50, guidance: 7.5, width: 512, height: 512 }, { min_side: 64, max_side: 1024, side_multiple: 64, max_steps: 150 }],
    [
      'stable-diffusion-xl',
      { steps: 50, guidance: 5, width: 1024, height: 1024 },
      { min_side: 512, max_side: 1536, side_multiple: 64, max_steps: 150, max_pixels: 1_048_576, max_pixel_steps: 52_428_800 },
    ],
    [
      'stable-diffusion-xl-turbo',
      { steps: 1, guidance: 0, width: 512, height: 512 },
      { min_side: 256, max_side: 1024, side_multiple: 64, max_steps: 8, max_pixels: 262_144, max_pixel_steps: 2_097_152 },
    ],
  ] as const)('%s without a dreamurl.json: %o, %o', (family, defaults, limits) => {
    const settings = settingsForModel(configFromEnv({}), profileForFamily(family, {}));
    expect(settings.defaults).toMatchObject(defaults);
    expect(settings.limits).toEqual(limits);
  });

  it("SDXL's cost limits hold on either provider; its 1024² picture runs alone where the built-in batch is smaller", () => {
    const sdxl = profileForFamily('stable-diffusion-xl', {});
    for (const provider of ['cpu', 'cuda'] as const) {
      const settings = settingsForModel(configFromEnv({}), sdxl, provider);
      expect([settings.limits.max_pixels, settings.limits.max_pixel_steps]).toEqual([1024 * 1024, 1024 * 1024 * 50]);
      expect(settings.maxBatchPixels).toBe(1024 * 1024);
    }
    // Turbo's 512² fits the CUDA batch budget four times over; the CPU's holds one.
    const turbo = profileForFamily('stable-diffusion-xl-turbo', {});
    expect(settingsForModel(configFromEnv({}), turbo, 'cuda').maxBatchPixels).toBe(4 * 512 * 512);
    expect(settingsForModel(configFromEnv({}), turbo, 'cpu').maxBatchPixels).toBe(512 * 512);
    // An explicit batch budget below the largest picture stays a start-up error.
    expect(() => settingsForModel(configFromEnv({ MAX_BATCH_PIXELS: '262144' }), sdxl, 'cuda')).toThrow(/MAX_BATCH_PIXELS/);
  });

  it("the folder's dreamurl.json and then the environment override the family's values", async () => {
    const dir = join(FIXTURES, 'tiny-sdxl-turbo');
    const profile = profileForFamily(modelFamilyOf(await readModelFolder(dir)), await readModelProfile(dir));
    const fromFolder = settingsForModel(configFromEnv({}), profile);
    expect(fromFolder.defaults).toMatchObject({ steps: 1, guidance: 0, width: 64, height: 64, scheduler: 'euler_a' });
    expect(fromFolder.limits).toEqual({
      min_side: 16,
      max_side: 128,
      side_multiple: 16,
      max_steps: 8,
      max_pixels: 262_144,
      max_pixel_steps: 2_097_152,
    });
    const fromEnv = settingsForModel(configFromEnv({ DEFAULT_STEPS: '4', MAX_STEPS: '6' }), profile);
    expect(fromEnv.defaults.steps).toBe(4);
    expect(fromEnv.limits.max_steps).toBe(6);
  });
});
