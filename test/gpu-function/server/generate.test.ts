// POST /v1/generate end to end over HTTP: the picture is the pipeline's, byte for byte, and within
// 2 levels of diffusers' reference (test/fixtures/tiny-sd-refs); X-Seed, X-Model and Server-Timing
// are set; missing fields take the model's defaults; and each request leaves one log line that
// identifies it without the prompt.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GenerateRequest, modelInfoSchema, type ModelInfo } from '../../../contract';
import { readModelFolder } from '../../../gpu-function/model/model-folder';
import { loadPipeline, type LoadedPipeline } from '../../../gpu-function/pipeline/load-pipeline';
import { decodePng } from '../../support/decode-png';
import { encodePng } from '../../../gpu-function/pipeline/image/encode-png';
import { generate, generatePng, type InProcessService, ROOT, startReady, TINY_SD } from '../../support/gpu-function-service';

interface ManifestEntry {
  readonly request: Required<Omit<GenerateRequest, 'negative_prompt'>>;
  readonly png: string;
}
const REFS = join(ROOT, 'test/fixtures/tiny-sd-refs');
const manifest: ManifestEntry[] = JSON.parse(await readFile(join(REFS, 'manifest.json'), 'utf8'));

let gpu: InProcessService;
let direct: LoadedPipeline;
let info: ModelInfo;

beforeAll(async () => {
  gpu = await startReady({ BATCH_TIMEOUT_MS: '0' });
  direct = await loadPipeline(await readModelFolder(TINY_SD), { provider: 'cpu', intraOpThreads: 1, log: () => {} });
  info = modelInfoSchema.parse(await (await fetch(`${gpu.url}/v1/model`)).json());
});
afterAll(async () => {
  await direct?.release();
  await gpu?.close();
});

describe.each(manifest.map((entry) => [entry.png, entry] as const))('%s', (_name, entry) => {
  it('is the pipeline picture, byte for byte, with X-Seed, X-Model and Server-Timing', async () => {
    const response = await generate(gpu.url, entry.request);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('image/png');
    expect(response.headers.get('X-Seed')).toBe(String(entry.request.seed));
    expect(response.headers.get('X-Model')).toBe(info.model);
    const png = new Uint8Array(await response.arrayBuffer());
    expect(response.headers.get('Content-Length')).toBe(String(png.byteLength));

    // W3C Server Timing: one `name;dur=ms` per stage, in pipeline order.
    const timing = response.headers.get('Server-Timing')!.split(', ').map((entry) => /^(\w+);dur=([\d.]+)$/.exec(entry));
    expect(timing.map((m) => m?.[1])).toEqual(['queue', 'tokenize', 'text_encoder', 'denoise', 'vae', 'png']);
    for (const m of timing) expect(Number(m![2])).toBeGreaterThanOrEqual(0);

    // The pipeline's pixels, encoded as encodePng encodes them (the service encodes after the batch).
    const [expected] = await direct.pipeline.generate([{ ...entry.request, negative_prompt: '' }]);
    expect(Buffer.from(png).equals(Buffer.from(encodePng(expected!.pixels, expected!.width, expected!.height)))).toBe(true);

    // And it is diffusers' picture within float noise (the pipeline's own acceptance bound).
    const reference = decodePng(new Uint8Array(await readFile(join(REFS, entry.png))));
    const actual = decodePng(png);
    expect([actual.width, actual.height]).toEqual([entry.request.width, entry.request.height]);
    let maxDiff = 0;
    for (let i = 0; i < reference.rgb.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual.rgb[i]! - reference.rgb[i]!));
    expect(maxDiff).toBeLessThanOrEqual(2);
  });
});

describe('defaults', () => {
  it('reports the configured defaults and the model scheduler on /v1/model', () => {
    expect(info.defaults).toEqual({ steps: 4, guidance: 7.5, width: 32, height: 32, scheduler: 'pndm' });
    // max_pixels from the test's environment, max_pixel_steps built in for the CPU.
    expect(info.limits).toEqual({
      min_side: 32,
      max_side: 256,
      side_multiple: 16,
      max_steps: 150,
      max_pixels: 16_384,
      max_pixel_steps: 13_107_200,
    });
  });

  it('fills every missing field with the defaults: the same bytes as the explicit request', async () => {
    const bare = await generatePng(gpu.url, { prompt: 'a lighthouse at dusk', seed: 11 });
    const explicit = await generatePng(gpu.url, {
      prompt: 'a lighthouse at dusk',
      negative_prompt: '',
      seed: 11,
      ...info.defaults,
    });
    expect(Buffer.from(bare).equals(Buffer.from(explicit))).toBe(true);
    expect([decodePng(bare).width, decodePng(bare).height]).toEqual([32, 32]);
  });

  it('changes the picture when the seed or the negative prompt changes', async () => {
    const base = { prompt: 'a lighthouse at dusk', seed: 11 };
    const a = Buffer.from(await generatePng(gpu.url, base));
    expect(a.equals(Buffer.from(await generatePng(gpu.url, { ...base, seed: 12 })))).toBe(false);
    expect(a.equals(Buffer.from(await generatePng(gpu.url, { ...base, negative_prompt: 'fog' })))).toBe(false);
  });
});

describe('an empty prompt', () => {
  it('makes an unconditional picture, as diffusers does for prompt=""', async () => {
    const request = { prompt: '', seed: 5, steps: 3 };
    const guided = await generatePng(gpu.url, { ...request, guidance: 7.5 });
    // Both guidance rows hold the embedding of "": uncond + w·(cond − uncond) is uncond exactly, so the
    // guided picture is the unguided one, byte for byte — and the pipeline's own on this thread.
    expect(Buffer.from(guided).equals(Buffer.from(await generatePng(gpu.url, { ...request, guidance: 1 })))).toBe(true);
    const [expected] = await direct.pipeline.generate([{ ...request, negative_prompt: '', guidance: 7.5, width: 32, height: 32, scheduler: 'pndm' }]);
    expect(Buffer.from(guided).equals(Buffer.from(encodePng(expected!.pixels, expected!.width, expected!.height)))).toBe(true);
    expect(Buffer.from(guided).equals(Buffer.from(await generatePng(gpu.url, { ...request, prompt: 'a lighthouse' })))).toBe(false);
  });
});

describe('request log', () => {
  it('writes one line per request with id, status, batch size, timings and the prompt hash, never the prompt', async () => {
    const prompt = 'a secret garden behind a blue door';
    const response = await generate(gpu.url, { prompt, seed: 5, steps: 2 }, { headers: { 'X-Request-Id': 'edge-req-42' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('X-Request-Id')).toBe('edge-req-42');
    const lines = gpu.logs.filter((line) => line.event === 'request' && line.id === 'edge-req-42');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      method: 'POST',
      path: '/v1/generate',
      status: 200,
      prompt_sha256: createHash('sha256').update(prompt).digest('hex'),
      seed: 5,
      steps: 2,
      width: 32,
      height: 32,
      scheduler: 'pndm',
      batch_size: 1,
    });
    expect(Object.keys(lines[0]!.timings as object)).toEqual(['queue', 'tokenize', 'text_encoder', 'denoise', 'vae', 'png']);
    for (const line of gpu.rawLogs) expect(line).not.toContain('secret garden');
  });

  it('gives a request without a usable X-Request-Id a fresh UUID', async () => {
    const response = await generate(gpu.url, { prompt: 'x', seed: 1, steps: 1 }, { headers: { 'X-Request-Id': 'no spaces allowed' } });
    expect(response.headers.get('X-Request-Id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
