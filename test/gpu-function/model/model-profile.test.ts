// A model folder's dreamurl.json fills the defaults and limits the environment leaves unset.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv, ConfigError, settingsForModel } from '../../../gpu-function/config';
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

  it('refuses a mix whose defaults break its limits', () => {
    // Consistent on its own (512 × 512 defaults), but the profile's 64-pixel defaults fall under MIN_SIDE.
    const config = configFromEnv({ MIN_SIDE: '128', SIDE_MULTIPLE: '128' });
    expect(() => settingsForModel(config, profile)).toThrow(ConfigError);
    expect(() => settingsForModel(config, profile)).toThrow(/DEFAULT_WIDTH.*dreamurl\.json/);
  });
});
