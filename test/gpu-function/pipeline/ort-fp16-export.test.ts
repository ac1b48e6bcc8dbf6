// The exports recommended for GPUs: onnxruntime-optimized fp16 pipelines laid out as the Hub's
// `onnxruntime/sd-turbo` (test/fixtures/tiny-sd-turbo-ort-fp16, made by
// test/fixtures/tools/make_tiny_sd_turbo_ort_fp16.py): float16 weights beside the graphs in
// `model.onnx.data`, float16 inputs and outputs, SD-Turbo's trailing Euler scheduler and one-step,
// no-guidance defaults. The fixture holds tiny-sd's networks with float16 weights, so with the same
// scheduler it must give tiny-sd's picture up to the rounding float16 adds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedGeneration } from '../../../contract';
import { readModelFolder, type ModelFolder } from '../../../gpu-function/model/model-folder';
import { readModelProfile } from '../../../gpu-function/model/model-profile';
import { resolveModel, type ResolvedModel } from '../../../gpu-function/model/resolve-model';
import { loadPipeline, type LoadedPipeline } from '../../../gpu-function/pipeline/load-pipeline';
import { openModelSession } from '../../../gpu-function/pipeline/onnx-runtime';
import { startHubDouble, type HubDouble } from '../../support/hub-double';

const EXPORT = 'test/fixtures/tiny-sd-turbo-ort-fp16';
const TINY_SD = 'test/fixtures/tiny-sd';
const cpu = { provider: 'cpu' as const, intraOpThreads: 1, log: () => {} };

let hub: HubDouble;
let cacheDir: string;
let fromHub: ResolvedModel;
beforeAll(async () => {
  hub = await startHubDouble({ repos: [{ id: 'onnxruntime-test/sd-turbo', dir: EXPORT }] });
  cacheDir = await mkdtemp(join(tmpdir(), 'dreamurl-ort-fp16-'));
  fromHub = await resolveModel('onnxruntime-test/sd-turbo', { cacheDir, offline: false, hubUrl: hub.url, log: () => {} });
});
afterAll(async () => {
  await hub?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('the onnxruntime/sd-turbo layout', () => {
  it('downloads from the Hub with its model.onnx.data files, which onnxruntime finds beside the cached graphs', async () => {
    expect(hub.bytesSentFor('unet/model.onnx.data')).toBe(1_572_352);
    expect(hub.bytesSentFor('text_encoder/model.onnx.data')).toBe(3_199_808);
    expect(fromHub.schedulerConfig).toMatchObject({ _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'trailing' });
    const sessions = await Promise.all(
      [fromHub.graphs.textEncoder, fromHub.graphs.unet, fromHub.graphs.vaeDecoder].map((graph) => openModelSession(graph, cpu)),
    );
    try {
      const [textEncoder, unet, vae] = sessions;
      expect(textEncoder!.outputs['last_hidden_state']?.type).toBe('float16');
      expect(Object.values(unet!.inputs).map((input) => [input.name, input.type])).toEqual([
        ['sample', 'float16'],
        ['timestep', 'float16'],
        ['encoder_hidden_states', 'float16'],
      ]);
      expect(unet!.outputs['out_sample']?.type).toBe('float16');
      expect([vae!.inputs['latent_sample']?.type, vae!.outputs['sample']?.type]).toEqual(['float16', 'float16']);
    } finally {
      await Promise.all(sessions.map((session) => session.release()));
    }
  });

  it('says in the folder\'s dreamurl.json how SD-Turbo is run (a Hub repo has none: set DEFAULT_STEPS=1, DEFAULT_GUIDANCE=0)', async () => {
    expect((await readModelProfile(EXPORT)).defaults).toEqual({ width: 64, height: 64, steps: 1, guidance: 0 });
    expect(hub.bytesSentFor('dreamurl.json')).toBe(0);
  });
});

describe('generating with the float16 export', () => {
  let fp16: LoadedPipeline;
  let fp32: LoadedPipeline;
  beforeAll(async () => {
    fp16 = await loadPipeline(fromHub, cpu);
    // tiny-sd's float32 networks under the export's scheduler, for comparison.
    const tinySd: ModelFolder = { ...(await readModelFolder(TINY_SD)), schedulerConfig: fromHub.schedulerConfig };
    fp32 = await loadPipeline(tinySd, cpu);
  });
  afterAll(async () => {
    await fp16?.release();
    await fp32?.release();
  });

  const request = (overrides: Partial<ResolvedGeneration>): ResolvedGeneration => ({
    prompt: 'a red fox in snow',
    negative_prompt: '',
    seed: 42,
    steps: 1,
    guidance: 0,
    width: 64,
    height: 64,
    scheduler: 'euler',
    ...overrides,
  });

  it.each([
    ['SD-Turbo defaults: 1 step at t = 999, no guidance', request({})],
    ['4 steps of euler_a with guidance (two UNet rows of float16 embeddings)', request({ steps: 4, guidance: 7.5, scheduler: 'euler_a', height: 48 })],
  ])('%s: the float32 model\'s picture within float16 rounding', async (_name, item) => {
    const [half] = await fp16.pipeline.generate([item]);
    const [full] = await fp32.pipeline.generate([item]);
    let maxDiff = 0;
    let differing = 0;
    for (let i = 0; i < full!.pixels.length; i++) {
      const diff = Math.abs(half!.pixels[i]! - full!.pixels[i]!);
      maxDiff = Math.max(maxDiff, diff);
      if (diff > 0) differing += 1;
    }
    // Measured: at most 1 level, on 6–9 % of the values (tiny-sd's weights rounded to float16).
    expect(maxDiff).toBeLessThanOrEqual(2);
    expect(differing / full!.pixels.length).toBeLessThan(0.15);
    expect(differing).toBeGreaterThan(0);
  });
});
