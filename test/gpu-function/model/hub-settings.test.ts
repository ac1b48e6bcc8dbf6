// Hugging Face settings from the environment, with huggingface_hub's names and precedence.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubSettingsFromEnv, isTrue } from '../../../gpu-function/model/hub-settings';

const HOME = '/home/me';

describe('hubSettingsFromEnv', () => {
  it.each([
    [{}, '/home/me/.cache/huggingface/hub'],
    [{ XDG_CACHE_HOME: '/xdg' }, '/xdg/huggingface/hub'],
    [{ HF_HOME: '/data/hf', XDG_CACHE_HOME: '/xdg' }, '/data/hf/hub'],
    [{ HUGGINGFACE_HUB_CACHE: '/legacy', HF_HOME: '/data/hf' }, '/legacy'],
    [{ HF_HUB_CACHE: '/models', HUGGINGFACE_HUB_CACHE: '/legacy', HF_HOME: '/data/hf' }, '/models'],
    [{ HF_HUB_CACHE: '', HF_HOME: '/data/hf' }, '/data/hf/hub'],
  ])('cache dir for %j', (env, cacheDir) => {
    expect(hubSettingsFromEnv(env, HOME).cacheDir).toBe(cacheDir);
  });

  it.each([
    ['1', true],
    ['true', true],
    ['ON', true],
    ['yes', true],
    [' True ', true],
    ['0', false],
    ['false', false],
    ['', false],
    [undefined, false],
  ])('HF_HUB_OFFLINE=%j is %s', (value, offline) => {
    expect(isTrue(value)).toBe(offline);
    expect(hubSettingsFromEnv({ HF_HUB_OFFLINE: value }, HOME).offline).toBe(offline);
  });

  it('takes the Hub URL from HF_ENDPOINT without a trailing slash', () => {
    expect(hubSettingsFromEnv({}, HOME).hubUrl).toBe('https://huggingface.co');
    expect(hubSettingsFromEnv({ HF_ENDPOINT: 'https://hf-mirror.example/' }, HOME).hubUrl).toBe('https://hf-mirror.example');
  });

  describe('token', () => {
    let hfHome: string;
    beforeAll(async () => {
      hfHome = await mkdtemp(join(tmpdir(), 'dreamurl-hf-home-'));
      await writeFile(join(hfHome, 'token'), 'hf_fromLoginFile\n');
      await writeFile(join(hfHome, 'other-token'), 'hf_fromTokenPath');
    });
    afterAll(() => rm(hfHome, { recursive: true, force: true }));

    it.each([
      [{ HF_TOKEN: 'hf_env', HUGGING_FACE_HUB_TOKEN: 'hf_legacy' }, 'hf_env'],
      [{ HUGGING_FACE_HUB_TOKEN: 'hf_legacy' }, 'hf_legacy'],
      [{}, 'hf_fromLoginFile'],
      [{ HF_TOKEN: '  ' }, 'hf_fromLoginFile'],
      [{ HF_TOKEN_PATH: 'other-token' }, 'hf_fromTokenPath'],
      [{ HF_TOKEN_PATH: 'missing' }, undefined],
    ])('%j gives %s', (env, token) => {
      const withPaths = {
        HF_HOME: hfHome,
        ...env,
        ...('HF_TOKEN_PATH' in env ? { HF_TOKEN_PATH: join(hfHome, env.HF_TOKEN_PATH ?? '') } : {}),
      };
      expect(hubSettingsFromEnv(withPaths, HOME).token).toBe(token);
    });
  });
});
