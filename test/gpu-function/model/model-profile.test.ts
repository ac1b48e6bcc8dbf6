// A model folder's dreamurl.json fills the defaults and limits the environment leaves unset.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv, ConfigError, settingsForModel } from '../../../gpu-function/config';
import { BUILT_IN_BUDGETS } from '../../../gpu-function/generation-settings';
import { readModelProfile } from '../../../gpu-function/model/model-profile';

const FIXTURE = join(import.meta.dirname, '../../fixtures/tiny-sd');
const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function folderWithProfile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dreamurl-profile-'));
  folders.push(dir);
  await writeFile(join(dir, 'dreamurl.json'), text);
  return dir;
}

describe('readModelProfile', () => {
  it("reads the test fixture's profile", async () => {
    expect(await readModelProfile(FIXTURE)).toEqual({
      defaults: { width: 64, height: 64, steps: 20 },
      limits: { min_side: 16, max_side: 512, side_multiple: 16 },
    });
  });

  it('is empty for a folder without one', async () => {
    expect(await readModelProfile(join(FIXTURE, 'unet'))).toEqual({});
  });

  it.each([
    ['not JSON', '{ defaults', /is not valid JSON/],
    ['an unknown key', '{"defaults": {"sampler": "pndm"}}', /defaults: Unrecognized key/],
    ['an unknown scheduler', '{"defaults": {"scheduler": "karras"}}', /defaults\.scheduler/],
    ['a fractional side', '{"limits": {"max_side": 100.5}}', /limits\.max_side/],
  ])('refuses %s, naming the file', async (_name, text, message) => {
    const dir = await folderWithProfile(text);
    await expect(readModelProfile(dir)).rejects.toThrow(message);
    await expect(readModelProfile(dir)).rejects.toThrow(join(dir, 'dreamurl.json'));
  });
});

describe('settingsForModel', () => {
  const profile = { defaults: { width: 64, height: 64, steps: 20 }, limits: { min_side: 16, side_multiple: 16 } };

  it('takes the profile where the environment is silent, built-in values elsewhere', () => {
    const { defaults, limits } = settingsForModel(configFromEnv({}), profile);
    expect(defaults).toEqual({ steps: 20, guidance: 7.5, width: 64, height: 64, scheduler: undefined });
    expect(limits).toEqual({ min_side: 16, max_side: 1024, side_multiple: 16, max_steps: 150 });
  });

  it('lets the environment win over the profile', () => {
    const config = configFromEnv({ DEFAULT_STEPS: '8', DEFAULT_WIDTH: '128', SIDE_MULTIPLE: '32', MIN_SIDE: '32' });
    const { defaults, limits } = settingsForModel(config, profile);
    expect([defaults.steps, defaults.width, defaults.height]).toEqual([8, 128, 64]);
    expect([limits.side_multiple, limits.min_side]).toEqual([32, 32]);
  });

  it('adds the cost limits built in for the provider, once it is known', () => {
    expect(settingsForModel(configFromEnv({}), profile).limits.max_pixels).toBeUndefined();
    for (const provider of ['cpu', 'cuda'] as const) {
      const settings = settingsForModel(configFromEnv({}), profile, provider);
      const builtIn = BUILT_IN_BUDGETS[provider];
      expect(settings.limits).toMatchObject({ max_pixels: builtIn.maxPixels, max_pixel_steps: builtIn.maxPixelSteps });
      expect(settings.maxBatchPixels).toBe(builtIn.maxBatchPixels);
    }
    expect(BUILT_IN_BUDGETS.cpu).toEqual({ maxPixels: 262_144, maxPixelSteps: 13_107_200, maxBatchPixels: 262_144 });
    expect(BUILT_IN_BUDGETS.cuda).toEqual({ maxPixels: 589_824, maxPixelSteps: 29_491_200, maxBatchPixels: 1_048_576 });
  });

  it("takes the profile's cost limits over the built-in ones, and the environment's over both", () => {
    const budgeted = { ...profile, limits: { ...profile.limits, max_pixels: 128 * 128, max_pixel_steps: 128 * 128 * 20 } };
    expect(settingsForModel(configFromEnv({}), budgeted, 'cuda').limits).toMatchObject({ max_pixels: 16_384, max_pixel_steps: 327_680 });
    const config = configFromEnv({ MAX_PIXELS: '9216', MAX_BATCH_PIXELS: '36864', DEFAULT_WIDTH: '64', DEFAULT_HEIGHT: '64' });
    const settings = settingsForModel(config, budgeted, 'cuda');
    expect([settings.limits.max_pixels, settings.limits.max_pixel_steps, settings.maxBatchPixels]).toEqual([9216, 327_680, 36_864]);
  });

  it('refuses a batch budget smaller than the largest picture, and defaults beyond the cost limits', () => {
    const big = { ...profile, limits: { ...profile.limits, max_pixels: 512 * 512 } };
    expect(() => settingsForModel(configFromEnv({ MAX_BATCH_PIXELS: '65536' }), big, 'cpu')).toThrow(
      /MAX_BATCH_PIXELS: must be at least MAX_PIXELS.*dreamurl\.json/,
    );
    const cramped = { ...profile, limits: { ...profile.limits, max_pixels: 32 * 32 } };
    expect(() => settingsForModel(configFromEnv({}), cramped, 'cpu')).toThrow(/DEFAULT_WIDTH: width × height must not exceed MAX_PIXELS/);
  });

  it('refuses a mix whose defaults break its limits', () => {
    // Consistent on its own (512 × 512 defaults), but the profile's 64-pixel defaults fall under MIN_SIDE.
    const config = configFromEnv({ MIN_SIDE: '128', SIDE_MULTIPLE: '128' });
    expect(() => settingsForModel(config, profile)).toThrow(ConfigError);
    expect(() => settingsForModel(config, profile)).toThrow(/DEFAULT_WIDTH.*dreamurl\.json/);
  });
});
