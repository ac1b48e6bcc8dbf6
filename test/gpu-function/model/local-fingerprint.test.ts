// The revision of a local folder. Pinned values come from an independent Python implementation of the
// rule documented in local-fingerprint.ts (sha256 over sorted "<path>\0<size>\0" + whole .json/.txt
// files + four 64 KiB samples of other files at offsets floor((size - 65536) * k / 3), k = 0..3).
import { appendFile, cp, mkdtemp, open, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localFingerprint } from '../../../gpu-function/model/local-fingerprint';

const TINY_SD_FILES = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'text_encoder/model.onnx',
  'tokenizer/merges.txt',
  'tokenizer/special_tokens_map.json',
  'tokenizer/tokenizer_config.json',
  'tokenizer/vocab.json',
  'unet/model.onnx',
  'vae_decoder/model.onnx',
];

describe('localFingerprint of the fixtures', () => {
  it('pins tiny-sd', async () => {
    const fingerprint = await localFingerprint('test/fixtures/tiny-sd');
    expect(fingerprint).toEqual({ id: 'tiny-sd', revision: 'local-81b6bc76529c', files: TINY_SD_FILES });
  });

  it('pins tiny-sd-int64-external, whose weights.pb counts and whose symlinks are followed', async () => {
    const fingerprint = await localFingerprint('test/fixtures/tiny-sd-int64-external');
    expect(fingerprint.revision).toBe('local-468e7ca645cd');
    expect(fingerprint.files).toContain('unet/weights.pb');
    expect(fingerprint.files).not.toContain('README.md');
  });
});

describe('localFingerprint of a copy', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dreamurl-fingerprint-'));
    dir = join(root, 'sd-copy');
    await cp('test/fixtures/tiny-sd', dir, { recursive: true });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('is the same wherever the folder lives and whatever its file times; the id is the folder name', async () => {
    await utimes(join(dir, 'unet/model.onnx'), new Date(0), new Date(0));
    expect(await localFingerprint(dir)).toEqual({ id: 'sd-copy', revision: 'local-81b6bc76529c', files: TINY_SD_FILES });
  });

  it('changes when weights change but keep their size (a fine-tune of the same architecture)', async () => {
    const path = join(dir, 'unet/model.onnx');
    const { size } = await stat(path);
    const handle = await open(path, 'r+');
    const middle = Math.floor((size - 65536) / 3) + 100; // inside the ⅓ sample
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, middle);
    await handle.write(Buffer.of((byte[0] ?? 0) ^ 1), 0, 1, middle);
    await handle.close();
    expect((await stat(path)).size).toBe(size);
    expect((await localFingerprint(dir)).revision).not.toBe('local-81b6bc76529c');
  });

  it('changes with a config value and with a new external-data file', async () => {
    const config = join(dir, 'scheduler/scheduler_config.json');
    await writeFile(config, (await readFile(config, 'utf8')).replace('"steps_offset": 1', '"steps_offset": 0'));
    const changedConfig = (await localFingerprint(dir)).revision;
    expect(changedConfig).not.toBe('local-81b6bc76529c');
    await writeFile(join(dir, 'unet/weights.pb'), Buffer.alloc(10));
    expect((await localFingerprint(dir)).revision).not.toBe(changedConfig);
  });

  it('ignores what the pipeline does not load', async () => {
    await writeFile(join(dir, 'unet/diffusion_pytorch_model.safetensors'), 'x');
    await writeFile(join(dir, 'unet/diffusion_pytorch_model.bin'), 'x');
    await writeFile(join(dir, 'unet/.DS_Store'), 'x');
    await writeFile(join(dir, 'README.md'), '# notes');
    await cp(join(dir, 'vae_decoder'), join(dir, 'vae_encoder'), { recursive: true });
    await cp(join(dir, 'vae_decoder'), join(dir, 'safety_checker'), { recursive: true });
    await appendFile(join(dir, 'vae_encoder/model.onnx'), 'more');
    expect((await localFingerprint(dir)).revision).toBe('local-81b6bc76529c');
  });
});
