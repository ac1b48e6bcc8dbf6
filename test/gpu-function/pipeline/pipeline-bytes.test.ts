// The pipeline's own arithmetic, pinned byte for byte. With stand-in networks (test/support/
// stand-in-networks.ts: fixed JS functions of their inputs, no onnxruntime kernel) every value the
// pipeline computes — initial noise, scale_model_input, the float16 conversions, guidance, each
// scheduler's step, the VAE scaling, post-processing — decides the pixels, and the result is the same on
// every machine. The hashes were taken before the loop was rewritten to work in place in reused buffers
// (commit 9a1586e); a rewrite that changes any value by one ulp changes a hash. The reference-image tests
// check the same code against diffusers' pictures on real onnxruntime sessions.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../gpu-function/pipeline/onnx-runtime';
import { StableDiffusionPipeline } from '../../../gpu-function/pipeline/stable-diffusion';
import { ClipTextConditioner } from '../../../gpu-function/pipeline/text-conditioning';
import { ClipTokenizer } from '../../../gpu-function/pipeline/tokenizer/clip-tokenizer';
import type { ResolvedGeneration, SchedulerName } from '../../../contract';
import { standInNetworks, type StandInFloat } from '../../support/stand-in-networks';

const TINY_SD = join(import.meta.dirname, '../../fixtures/tiny-sd');

let tokenizer: ClipTokenizer;
let schedulerConfig: Record<string, unknown>;
beforeAll(async () => {
  tokenizer = await ClipTokenizer.fromFolder(join(TINY_SD, 'tokenizer'));
  schedulerConfig = JSON.parse(await readFile(join(TINY_SD, 'scheduler/scheduler_config.json'), 'utf8'));
});

function pipelineFor(float: StandInFloat, timestep?: 'int64'): StableDiffusionPipeline {
  const networks = standInNetworks({ float, kind: 'computed', hidden: 64, ...(timestep ? { timestep } : {}) });
  const { textEncoder, unet, vaeDecoder } = networks;
  const conditioner = new ClipTextConditioner(tokenizer, textEncoder);
  return new StableDiffusionPipeline({ conditioner, unet, vaeDecoder, schedulerConfig, vaeScalingFactor: 0.18215 });
}

const request = (scheduler: SchedulerName, overrides: Partial<ResolvedGeneration> = {}): ResolvedGeneration => ({
  prompt: 'a lighthouse at dusk, oil painting',
  negative_prompt: '',
  seed: 1234,
  steps: 6,
  guidance: 7.5,
  width: 64,
  height: 48,
  scheduler,
  ...overrides,
});

async function pixelHashes(pipeline: StableDiffusionPipeline, batch: ResolvedGeneration[]): Promise<string[]> {
  const images = await pipeline.generate(batch);
  return images.map((image) => createHash('sha256').update(image!.pixels).digest('hex').slice(0, 16));
}

interface Case {
  readonly name: string;
  readonly float: StandInFloat;
  readonly timestep?: 'int64';
  readonly batch: ResolvedGeneration[];
}

const SCHEDULERS: SchedulerName[] = ['pndm', 'ddim', 'euler', 'euler_a', 'dpmpp_2m', 'lcm'];

const CASES: Case[] = [
  ...SCHEDULERS.flatMap((scheduler): Case[] => [
    { name: `${scheduler}, float32 graphs`, float: 'float32', batch: [request(scheduler)] },
    { name: `${scheduler}, float16 graphs`, float: 'float16', batch: [request(scheduler)] },
  ]),
  {
    name: 'a batch mixing guided, unguided and negative-prompted requests (float16)',
    float: 'float16',
    batch: [
      request('euler_a', { seed: 1 }),
      request('euler_a', { seed: 2, guidance: 1 }),
      request('euler_a', { seed: 3, guidance: 4.5, negative_prompt: 'fog, blur' }),
      request('euler_a', { seed: 4, prompt: 'a red fox in snow', guidance: 12 }),
    ],
  },
  {
    name: 'a batch mixing guided and unguided requests (float32)',
    float: 'float32',
    batch: [request('dpmpp_2m', { seed: 5, guidance: 1 }), request('dpmpp_2m', { seed: 6 })],
  },
  { name: 'an int64 timestep (fractional Euler timesteps truncated)', float: 'float16', timestep: 'int64', batch: [request('euler')] },
  { name: 'SD 1.x latents, 512×512, float16', float: 'float16', batch: [request('euler_a', { width: 512, height: 512, steps: 2 })] },
];

/** sha256 of each picture's RGB8 pixels (first 16 hex digits), as the pipeline gave them at commit 9a1586e. */
const PINNED: Readonly<Record<string, readonly string[]>> = {
  'pndm, float32 graphs': ['f90fb6a7810c57b9'],
  'pndm, float16 graphs': ['ecd4175557879325'],
  'ddim, float32 graphs': ['340c0a328f21c540'],
  'ddim, float16 graphs': ['0e1c00b4437fe98f'],
  'euler, float32 graphs': ['5a374b1f0d1d50b8'],
  'euler, float16 graphs': ['33841b0c48a914e8'],
  'euler_a, float32 graphs': ['513e0fa178679a28'],
  'euler_a, float16 graphs': ['9c02eeb3213cee63'],
  'dpmpp_2m, float32 graphs': ['64f953297f7d3905'],
  'dpmpp_2m, float16 graphs': ['445870020bd15baf'],
  'lcm, float32 graphs': ['dbca534ec5c8e654'],
  'lcm, float16 graphs': ['4317b1a45f72442a'],
  'a batch mixing guided, unguided and negative-prompted requests (float16)': ['e390a180659b0e33', '3745dd5270e1501b', '891888d207abf49a', '0ea864a8dfd22dd4'],
  'a batch mixing guided and unguided requests (float32)': ['0fd3bdd52e3f5a7e', '682375fd75a543ef'],
  'an int64 timestep (fractional Euler timesteps truncated)': ['0e5c95e9924209a7'],
  'SD 1.x latents, 512×512, float16': ['e1607440dabf0628'],
};

describe('pipeline bytes with stand-in networks', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const hashes = await pixelHashes(pipelineFor(c.float, c.timestep), c.batch);
    expect(hashes).toEqual(PINNED[c.name]);
  });

  it("hands the text encoder's float16 embeddings to a float16 UNet untouched, and refills one input buffer", async () => {
    const networks = standInNetworks({ float: 'float16', kind: 'computed', hidden: 64 });
    const encoded: HostTensor[] = [];
    const fed: Readonly<Record<string, HostTensor>>[] = [];
    const textEncoder = { ...networks.textEncoder, run: async (feeds: Readonly<Record<string, HostTensor>>) => {
      const outputs = await networks.textEncoder.run(feeds);
      encoded.push(outputs['last_hidden_state']!);
      return outputs;
    } };
    const unet = { ...networks.unet, run: (feeds: Readonly<Record<string, HostTensor>>) => (fed.push(feeds), networks.unet.run(feeds)) };
    const conditioner = new ClipTextConditioner(tokenizer, textEncoder);
    const { vaeDecoder } = networks;
    const parts = { conditioner, unet, vaeDecoder, schedulerConfig, vaeScalingFactor: 0.18215 };
    const pipeline = new StableDiffusionPipeline(parts);
    await pipeline.generate([request('pndm', { steps: 3 })]);

    // Rows [unconditional "", conditional prompt]: the encoder ran once on the two distinct texts, and
    // every UNet call got exactly its float16 bits, in row order, as one tensor built once per batch.
    const [states] = encoded;
    const hidden = fed.map((feeds) => feeds['encoder_hidden_states']!);
    expect(states!.type).toBe('float16');
    expect(hidden[0]!.type).toBe('float16');
    expect(Buffer.from(hidden[0]!.data.buffer).equals(Buffer.from(states!.data.buffer))).toBe(true);
    expect(new Set(hidden).size).toBe(1);
    // The sample is one float16 buffer refilled every step (PNDM's PLMS visits one timestep twice: 4 calls).
    const samples = fed.map((feeds) => feeds['sample']!);
    expect(samples).toHaveLength(4);
    expect(samples.every((sample) => sample.type === 'float16' && sample.data === samples[0]!.data)).toBe(true);
  });

  it('gives each request of a batch the bytes it gets alone', async () => {
    const pipeline = pipelineFor('float16');
    const batch = CASES.find((c) => c.batch.length === 4)!.batch;
    const together = await pixelHashes(pipeline, batch);
    for (const [i, item] of batch.entries()) expect(await pixelHashes(pipeline, [item]), `request ${i}`).toEqual([together[i]]);
    expect(new Set(together).size).toBe(batch.length);
  });
});
