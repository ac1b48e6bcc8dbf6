// Reading a diffusers ONNX model folder: what it returns for the fixtures, and the errors a person
// fixing a broken folder would read.
import { cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_VAE_SCALING_FACTOR, readModelFolder } from '../../../gpu-function/model/model-folder';

const TINY_SD = resolve('test/fixtures/tiny-sd');

describe('readModelFolder on the fixtures', () => {
  it('describes tiny-sd', async () => {
    const folder = await readModelFolder('test/fixtures/tiny-sd');
    expect(folder.dir).toBe(TINY_SD);
    expect(folder.graphs).toEqual({
      textEncoder: join(TINY_SD, 'text_encoder/model.onnx'),
      unet: join(TINY_SD, 'unet/model.onnx'),
      vaeDecoder: join(TINY_SD, 'vae_decoder/model.onnx'),
    });
    expect(folder.tokenizerDir).toBe(join(TINY_SD, 'tokenizer'));
    expect(folder.schedulerConfig).toMatchObject({
      _class_name: 'PNDMScheduler',
      beta_schedule: 'scaled_linear',
      beta_start: 0.00085,
      beta_end: 0.012,
      steps_offset: 1,
      skip_prk_steps: true,
    });
    expect(folder.modelIndex._class_name).toBe('OnnxStableDiffusionPipeline');
    expect(folder.vaeScalingFactor).toBe(0.18215);
    expect(DEFAULT_VAE_SCALING_FACTOR).toBe(0.18215);
  });

  it('describes the int64/external-weights export through its symlinked components', async () => {
    const folder = await readModelFolder('test/fixtures/tiny-sd-int64-external');
    expect(folder.graphs.unet).toBe(resolve('test/fixtures/tiny-sd-int64-external/unet/model.onnx'));
    expect(folder.schedulerConfig._class_name).toBe('PNDMScheduler');
  });
});

describe('readModelFolder on broken folders', () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'dreamurl-folder-')), 'my-model');
    await cp(TINY_SD, dir, { recursive: true });
  });
  afterEach(() => rm(join(dir, '..'), { recursive: true, force: true }));

  it('names every missing file at once', async () => {
    await unlink(join(dir, 'unet/model.onnx'));
    await unlink(join(dir, 'scheduler/scheduler_config.json'));
    await unlink(join(dir, 'tokenizer/merges.txt'));
    await expect(readModelFolder(dir)).rejects.toThrow(
      `${dir} is not a diffusers ONNX model folder: missing scheduler/scheduler_config.json, unet/model.onnx, ` +
        'tokenizer/tokenizer.json (or tokenizer/vocab.json + tokenizer/merges.txt)',
    );
  });

  it('accepts a tokenizer.json in place of vocab.json + merges.txt', async () => {
    await unlink(join(dir, 'tokenizer/merges.txt'));
    await writeFile(join(dir, 'tokenizer/tokenizer.json'), '{}');
    await expect(readModelFolder(dir)).resolves.toMatchObject({ tokenizerDir: join(dir, 'tokenizer') });
  });

  it('says when the folder is a PyTorch diffusers layout', async () => {
    await rm(join(dir, 'unet'), { recursive: true });
    await writeFile(join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionPipeline' }));
    await expect(readModelFolder(dir)).rejects.toThrow(
      /missing unet\/model\.onnx \(model_index\.json says StableDiffusionPipeline: this is a PyTorch layout; use an ONNX export/,
    );
  });

  it('reports a folder that does not exist', async () => {
    await expect(readModelFolder(join(dir, 'nope'))).rejects.toThrow(`model folder ${join(dir, 'nope')} does not exist`);
  });

  it('reports invalid JSON with its path', async () => {
    await writeFile(join(dir, 'scheduler/scheduler_config.json'), '{"beta_start": 0.1,');
    await expect(readModelFolder(dir)).rejects.toThrow(`${join(dir, 'scheduler/scheduler_config.json')} is not valid JSON`);
    await writeFile(join(dir, 'scheduler/scheduler_config.json'), '[1, 2]');
    await expect(readModelFolder(dir)).rejects.toThrow('scheduler_config.json must hold a JSON object');
  });

  it('takes the VAE scaling factor from vae_decoder/config.json', async () => {
    await writeFile(join(dir, 'vae_decoder/config.json'), JSON.stringify({ scaling_factor: 0.13025 }));
    expect((await readModelFolder(dir)).vaeScalingFactor).toBe(0.13025);
    await writeFile(join(dir, 'vae_decoder/config.json'), JSON.stringify({ latent_channels: 4 }));
    expect((await readModelFolder(dir)).vaeScalingFactor).toBe(0.18215);
    await writeFile(join(dir, 'vae_decoder/config.json'), JSON.stringify({ scaling_factor: '0.2' }));
    await expect(readModelFolder(dir)).rejects.toThrow('scaling_factor must be a positive number, got "0.2"');
  });
});
