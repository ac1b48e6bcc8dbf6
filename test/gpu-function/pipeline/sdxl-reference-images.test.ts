// The SDXL pipeline reproduces diffusers' StableDiffusionXLPipeline: for each picture of
// tiny-sdxl-refs/manifest.json (diffusers' own loop, torch fp32, the same weights) the fp32 export
// gives the reference within 1/255 per value — measured: all six pictures (euler, euler_a, dpmpp_2m,
// each with guidance on and off) bit-identical, 0 differing values — and the fp16 Turbo export is
// within 1/255 with at most 2% of values off by one (measured: 1.16% and 1.31%; its reference runs
// the fp16-rounded weights in float32, so the float16 arithmetic is all that differs). The text
// conditioning alone matches text-embeddings.json, and a batch gives each request its unbatched bytes.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFolder } from '../../../gpu-function/model/model-folder';
import { buildUnetRows } from '../../../gpu-function/pipeline/classifier-free-guidance';
import { loadPipeline, type LoadedPipeline } from '../../../gpu-function/pipeline/load-pipeline';
import { openModelSession, readFloat32 } from '../../../gpu-function/pipeline/onnx-runtime';
import { SdxlTextConditioner } from '../../../gpu-function/pipeline/sdxl-text-conditioning';
import { ClipTokenizer } from '../../../gpu-function/pipeline/tokenizer/clip-tokenizer';
import type { ResolvedGeneration } from '../../../contract';
import {
  expectMatchesReference,
  readReferenceManifest,
  resolvedReference,
  type ReferencePicture,
} from '../../support/reference-pictures';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const REFS = join(FIXTURES, 'tiny-sdxl-refs');
const log = () => {};

interface ManifestEntry extends ReferencePicture {
  readonly fixture: 'tiny-sdxl' | 'tiny-sdxl-turbo';
  readonly add_time_ids: number[];
  readonly negative_embeddings_zero: boolean | null;
}

interface EmbeddingCase {
  readonly prompt: string;
  readonly negative_prompt: string | null;
  readonly input_ids: number[];
  readonly input_ids_2: number[];
  readonly negative_input_ids_2: number[];
  readonly prompt_embeds_dims: number[];
  readonly prompt_embeds: number[];
  readonly pooled_prompt_embeds: number[];
  readonly negative_prompt_embeds: number[];
  readonly negative_pooled_prompt_embeds: number[];
}

const manifest = await readReferenceManifest<ManifestEntry>(REFS);
const embeddings: { cases: EmbeddingCase[] } = JSON.parse(await readFile(join(REFS, 'text-embeddings.json'), 'utf8'));

function maxAbsDifference(actual: Float32Array, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  return expected.reduce((max, value, i) => Math.max(max, Math.abs(actual[i]! - value)), 0);
}

describe('tiny-sdxl (optimum layout, fp32)', () => {
  let loaded: LoadedPipeline;
  beforeAll(async () => {
    loaded = await loadPipeline(await readModelFolder(join(FIXTURES, 'tiny-sdxl')), { provider: 'cpu', log });
  });
  afterAll(() => loaded?.release());

  it('is detected as SDXL from its layout', () => {
    expect(loaded.family).toBe('stable-diffusion-xl');
  });

  const base = manifest.filter((entry) => entry.fixture === 'tiny-sdxl');
  it('covers euler, euler_a and dpmpp_2m, each with and without guidance', () => {
    const covered = new Set(base.map((entry) => `${entry.request.scheduler}:${entry.request.guidance > 1}`));
    expect([...covered].sort()).toEqual(['dpmpp_2m:false', 'dpmpp_2m:true', 'euler:false', 'euler:true', 'euler_a:false', 'euler_a:true']);
  });

  it.each(base.map((entry) => [entry.png, entry] as const))('reproduces diffusers: %s', async (_name, entry) => {
    // Measured: bit-identical. 1/255 per value is the bound; 0.1% leaves room for float noise
    // between onnxruntime builds without letting a wrong rule through (those move most values).
    await expectMatchesReference(loaded.pipeline, REFS, entry, { maxDiff: 1, maxShare: 0.001 });
  });

  it('gives each request of a batch the bytes it gets alone', async () => {
    const request = resolvedReference(base.find((entry) => entry.request.scheduler === 'euler_a' && entry.request.guidance > 1)!.request);
    // Mixed guidance (one- and two-row requests), an explicit negative prompt next to the zeroed one.
    const batch: ResolvedGeneration[] = [
      request,
      { ...request, prompt: 'a red apple', seed: 11, guidance: 1, negative_prompt: '' },
      { ...request, prompt: 'a red apple', seed: 12, guidance: 4, negative_prompt: '' },
      { ...request, seed: 4294967295, guidance: 9, negative_prompt: 'fog' },
    ];
    const together = await loaded.pipeline.generate(batch);
    for (const [i, one] of batch.entries()) {
      const [alone] = await loaded.pipeline.generate([one]);
      expect(Buffer.from(together[i]!.pixels).equals(Buffer.from(alone!.pixels)), `request ${i}`).toBe(true);
    }
    expect(Buffer.from(together[1]!.pixels).equals(Buffer.from(together[2]!.pixels))).toBe(false);
  });
});

describe('SDXL text conditioning against diffusers encode_prompt', () => {
  let conditioner: SdxlTextConditioner;
  let tokenizer2: ClipTokenizer;
  let release: () => Promise<void>;
  beforeAll(async () => {
    const folder = await readModelFolder(join(FIXTURES, 'tiny-sdxl'));
    const textEncoder = await openModelSession(folder.graphs.textEncoder, { provider: 'cpu', log });
    const textEncoder2 = await openModelSession(folder.sdxl!.textEncoder2, { provider: 'cpu', log });
    tokenizer2 = await ClipTokenizer.fromFolder(folder.sdxl!.tokenizer2Dir);
    conditioner = new SdxlTextConditioner({
      tokenizer: await ClipTokenizer.fromFolder(folder.tokenizerDir),
      textEncoder,
      tokenizer2,
      textEncoder2,
      forceZerosForEmptyPrompt: folder.sdxl!.forceZerosForEmptyPrompt,
    });
    release = async () => {
      await textEncoder.release();
      await textEncoder2.release();
    };
  });
  afterAll(() => release?.());

  it.each(embeddings.cases.map((c) => [c.prompt, c] as const))('matches for %s', async (_name, c) => {
    expect([...tokenizer2.encode(c.prompt).inputIds]).toEqual(c.input_ids_2);
    expect(c.input_ids_2.at(-1), 'tokenizer_2 pads with "!" (id 0)').toBe(0);
    expect(c.input_ids.at(-1), 'tokenizer pads with <|endoftext|>').toBe(49407);
    const request: ResolvedGeneration = {
      prompt: c.prompt,
      negative_prompt: c.negative_prompt ?? '',
      seed: 0,
      steps: 1,
      guidance: 5,
      width: 96,
      height: 64,
      scheduler: 'euler',
    };
    const times = { tokenize: 0, textEncoder: 0 };
    const feeds = await conditioner.condition([request], buildUnetRows([request]), times);
    const hiddenStates = readFloat32(feeds.encoder_hidden_states!);
    const pooled = readFloat32(feeds.text_embeds!);
    const [uncond, cond] = [0, 1].map((row) => hiddenStates.subarray(row * 77 * 16, (row + 1) * 77 * 16));
    expect(feeds.encoder_hidden_states!.dims).toEqual([2, ...c.prompt_embeds_dims.slice(1)]);
    // onnxruntime and torch round differently in the last bits; the embeddings are O(1).
    expect(maxAbsDifference(cond!, c.prompt_embeds)).toBeLessThan(2e-5);
    expect(maxAbsDifference(pooled.subarray(8), c.pooled_prompt_embeds)).toBeLessThan(2e-5);
    expect(maxAbsDifference(uncond!, c.negative_prompt_embeds)).toBeLessThan(2e-5);
    expect(maxAbsDifference(pooled.subarray(0, 8), c.negative_pooled_prompt_embeds)).toBeLessThan(2e-5);
    if (c.negative_prompt === null) expect(uncond!.every((v) => v === 0), 'force_zeros_for_empty_prompt').toBe(true);
    else expect(uncond!.some((v) => v !== 0)).toBe(true);
    // (original height, width, crop top, left, target height, width), per row.
    expect([...feeds.time_ids!.data]).toEqual([64, 96, 0, 0, 64, 96, 64, 96, 0, 0, 64, 96]);
  });

  it('sends the add_time_ids diffusers sent for every reference picture', () => {
    for (const entry of manifest) {
      const { width, height } = entry.request;
      expect(entry.add_time_ids, entry.png).toEqual([height, width, 0, 0, height, width]);
    }
  });
});

describe('tiny-sdxl-turbo (onnxruntime/sdxl-turbo layout, fp16, external weights)', () => {
  let loaded: LoadedPipeline;
  beforeAll(async () => {
    loaded = await loadPipeline(await readModelFolder(join(FIXTURES, 'tiny-sdxl-turbo')), { provider: 'cpu', log });
  });
  afterAll(() => loaded?.release());

  it.each(manifest.filter((entry) => entry.fixture === 'tiny-sdxl-turbo').map((entry) => [entry.png, entry] as const))(
    'reproduces diffusers within float16 noise: %s',
    async (_name, entry) => {
      await expectMatchesReference(loaded.pipeline, REFS, entry, { maxDiff: 1, maxShare: 0.02 });
    },
  );
});

describe('layout detection', () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'dreamurl-sdxl-')), 'half-sdxl');
    await cp(join(FIXTURES, 'tiny-sdxl'), dir, { recursive: true, dereference: true });
    await rm(join(dir, 'text_encoder_2'), { recursive: true });
  });
  afterAll(() => rm(join(dir, '..'), { recursive: true, force: true }));

  it('treats a folder without text_encoder_2 as SD 1.x/2.x', async () => {
    const folder = await readModelFolder(join(FIXTURES, 'tiny-sd'));
    expect(folder.sdxl).toBeUndefined();
    const loaded = await loadPipeline(folder, { provider: 'cpu', log });
    expect(loaded.family).toBe('stable-diffusion');
    await loaded.release();
  });

  it('refuses an SDXL UNet without the second text encoder, naming what is missing', async () => {
    const folder = await readModelFolder(dir);
    expect(folder.sdxl).toBeUndefined();
    await expect(loadPipeline(folder, { provider: 'cpu', log })).rejects.toThrow(
      /takes text_embeds and time_ids \(an SDXL UNet\), but .* has no text_encoder_2\/model\.onnx/,
    );
  });
});
