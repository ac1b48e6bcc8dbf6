// What the shared denoising loop does with SDXL beyond matching the reference pictures: an fp16 export's
// text conditioning reaches its fp16 UNet as the text encoders' own float16 bits (joined, never decoded
// and re-encoded), built once per batch and fed unchanged at every step, with the zeroed unconditional
// row and the size conditioning in place; the loop's hooks (GenerationHooks: progress after each step,
// requests nobody wants leaving before the next one) work for an SDXL batch, narrowing all three text
// inputs; and a VAE that decodes to NaN (float16 overflow, SDXL's original VAE in fp16) is refused
// instead of painting a black picture.
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedGeneration } from '../../../contract';
import { float32ToFloat16Array } from '../../../gpu-function/pipeline/float16';
import { readModelFolder } from '../../../gpu-function/model/model-folder';
import { loadPipeline, type LoadedPipeline } from '../../../gpu-function/pipeline/load-pipeline';
import { openModelSession, type HostTensor, type ModelSession } from '../../../gpu-function/pipeline/onnx-runtime';
import {
  penultimateHiddenState,
  POOLED_OUTPUT,
  SdxlTextConditioner,
} from '../../../gpu-function/pipeline/sdxl-text-conditioning';
import { StableDiffusionPipeline } from '../../../gpu-function/pipeline/stable-diffusion';
import { ClipTextConditioner } from '../../../gpu-function/pipeline/text-conditioning';
import { ClipTokenizer } from '../../../gpu-function/pipeline/tokenizer/clip-tokenizer';
import type { StepProgress } from '../../../gpu-function/pipeline/types';
import { standInNetworks, type StandInFloat } from '../../support/stand-in-networks';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const log = () => {};
type Feeds = Readonly<Record<string, HostTensor>>;

/** The session with every run's feeds and outputs recorded. */
function recorded(session: ModelSession): { session: ModelSession; runs: { feeds: Feeds; outputs: Feeds }[] } {
  const runs: { feeds: Feeds; outputs: Feeds }[] = [];
  const run = async (feeds: Feeds) => {
    const outputs = await session.run(feeds);
    runs.push({ feeds, outputs });
    return outputs;
  };
  return { session: { ...session, run }, runs };
}

/** Row `row` of a [rows, …] float16 tensor, as bits. */
function rowBits(tensor: HostTensor, row: number): Uint16Array {
  if (tensor.type !== 'float16') throw new TypeError(`expected float16, got ${tensor.type}`);
  const size = tensor.data.length / tensor.dims[0]!;
  return tensor.data.subarray(row * size, (row + 1) * size);
}

type Recorded = ReturnType<typeof recorded>;

interface TurboPipeline {
  readonly pipeline: StableDiffusionPipeline;
  readonly encoder1: Recorded;
  readonly encoder2: Recorded;
  readonly unet: Recorded;
  release(): Promise<void>;
}

/** tiny-sdxl-turbo assembled as load-pipeline.ts does, its text encoders and UNet recorded. */
async function openTurbo(): Promise<TurboPipeline> {
  const folder = await readModelFolder(join(FIXTURES, 'tiny-sdxl-turbo'));
  const sessions: ModelSession[] = [];
  const open = async (path: string) => {
    const session = await openModelSession(path, { provider: 'cpu', log });
    sessions.push(session);
    return session;
  };
  const encoder1 = recorded(await open(folder.graphs.textEncoder));
  const encoder2 = recorded(await open(folder.sdxl!.textEncoder2));
  const unet = recorded(await open(folder.graphs.unet));
  const conditioner = new SdxlTextConditioner({
    tokenizer: await ClipTokenizer.fromFolder(folder.tokenizerDir),
    textEncoder: encoder1.session,
    tokenizer2: await ClipTokenizer.fromFolder(folder.sdxl!.tokenizer2Dir),
    textEncoder2: encoder2.session,
    forceZerosForEmptyPrompt: folder.sdxl!.forceZerosForEmptyPrompt,
  });
  const pipeline = new StableDiffusionPipeline({
    conditioner,
    unet: unet.session,
    vaeDecoder: await open(folder.graphs.vaeDecoder),
    schedulerConfig: folder.schedulerConfig,
    vaeScalingFactor: folder.vaeScalingFactor,
    schedulerRules: 'stable-diffusion-xl',
    latentUnscaling: 'divide',
  });
  const release = () => Promise.all(sessions.map((session) => session.release())).then(() => undefined);
  return { pipeline, encoder1, encoder2, unet, release };
}

const turboRequest: ResolvedGeneration = {
  prompt: 'a lighthouse at dusk',
  negative_prompt: '',
  seed: 9,
  steps: 2,
  guidance: 2,
  width: 64,
  height: 48,
  scheduler: 'euler_a',
};

describe('tiny-sdxl-turbo (fp16): the conditioning reaches the UNet as float16 bits', () => {
  let turbo: TurboPipeline;
  let encoder1: Recorded;
  let encoder2: Recorded;
  let unet: Recorded;
  beforeAll(async () => {
    turbo = await openTurbo();
    ({ encoder1, encoder2, unet } = turbo);
    // Rows: [zeroed unconditional, "a lighthouse at dusk", "a red apple"].
    await turbo.pipeline.generate([turboRequest, { ...turboRequest, prompt: 'a red apple', seed: 10, guidance: 0 }]);
  });
  afterAll(() => turbo?.release());

  it('feeds the same three tensors, built once, at every step', () => {
    expect(unet.runs).toHaveLength(2);
    for (const name of ['encoder_hidden_states', 'text_embeds', 'time_ids']) {
      const fed = unet.runs.map((run) => run.feeds[name]!);
      expect(fed[0]!.type, name).toBe('float16');
      expect(fed[1], name).toBe(fed[0]);
    }
  });

  it("joins both encoders' penultimate float16 states bit for bit, zeros for the unconditional row", () => {
    expect(encoder1.runs).toHaveLength(1);
    expect(encoder2.runs).toHaveLength(1);
    const states = unet.runs[0]!.feeds['encoder_hidden_states']!;
    const first = encoder1.runs[0]!.outputs[penultimateHiddenState(encoder1.session)]!;
    const second = encoder2.runs[0]!.outputs[penultimateHiddenState(encoder2.session)]!;
    const [, sequence, width1] = first.dims as [number, number, number];
    const width2 = second.dims[2]!;
    expect(states.dims).toEqual([3, sequence, width1 + width2]);
    expect(rowBits(states, 0).every((bits) => bits === 0)).toBe(true);
    // UNet rows 1 and 2 are the encoders' rows 0 and 1 (the two distinct prompts, in order).
    for (const [unetRow, textRow] of [[1, 0], [2, 1]] as const) {
      const fed = rowBits(states, unetRow);
      const one = rowBits(first, textRow);
      const two = rowBits(second, textRow);
      const expected = new Uint16Array(fed.length);
      for (let token = 0; token < sequence; token++) {
        expected.set(one.subarray(token * width1, (token + 1) * width1), token * (width1 + width2));
        expected.set(two.subarray(token * width2, (token + 1) * width2), token * (width1 + width2) + width1);
      }
      const fedBytes = Buffer.from(fed.buffer, fed.byteOffset, fed.byteLength);
      expect(fedBytes.equals(Buffer.from(expected.buffer)), `row ${unetRow}`).toBe(true);
    }
  });

  it("passes the second encoder's pooled float16 output and the size conditioning per row", () => {
    const pooled = unet.runs[0]!.feeds['text_embeds']!;
    const encoded = encoder2.runs[0]!.outputs[POOLED_OUTPUT]!;
    expect([...rowBits(pooled, 0)].every((bits) => bits === 0)).toBe(true);
    expect([...rowBits(pooled, 1)]).toEqual([...rowBits(encoded, 0)]);
    expect([...rowBits(pooled, 2)]).toEqual([...rowBits(encoded, 1)]);
    // (original height, width, crop top, left, target height, width) as float16, one row per UNet row.
    const timeIds = unet.runs[0]!.feeds['time_ids']!;
    const perRow = Array.from({ length: 3 }, () => [48, 64, 0, 0, 48, 64]).flat();
    expect([...rowBits(timeIds, 0), ...rowBits(timeIds, 1), ...rowBits(timeIds, 2)]).toEqual([
      ...float32ToFloat16Array(new Float32Array(perRow)),
    ]);
  });
});

describe('the loop hooks (cancellation, progress) on an SDXL batch', () => {
  let loaded: LoadedPipeline;
  beforeAll(async () => {
    loaded = await loadPipeline(await readModelFolder(join(FIXTURES, 'tiny-sdxl')), { provider: 'cpu', log });
  });
  afterAll(() => loaded?.release());

  // Guided with the zeroed negative, unguided, guided with a negative prompt: 2 + 1 + 2 UNet rows.
  const base: ResolvedGeneration = { ...turboRequest, steps: 4, guidance: 5, width: 64, height: 64 };
  const batch: ResolvedGeneration[] = [
    base,
    { ...base, prompt: 'a red apple', seed: 10, guidance: 1 },
    { ...base, prompt: 'a quiet harbour', seed: 11, guidance: 4, negative_prompt: 'fog' },
  ];

  it('reports each step; a request that leaves goes before the next step, the others keep their bytes', async () => {
    const steps: StepProgress[] = [];
    const images = await loaded.pipeline.generate(batch, {
      // Request 1's client leaves once step 2 is done.
      isWanted: (index) => index !== 1 || steps.length < 2,
      onStep: (progress) => steps.push(progress),
    });
    expect(steps).toEqual([
      { step: 1, steps: 4, requests: [0, 1, 2] },
      { step: 2, steps: 4, requests: [0, 1, 2] },
      { step: 3, steps: 4, requests: [0, 2] },
      { step: 4, steps: 4, requests: [0, 2] },
    ]);
    expect(images[1]).toBeUndefined();
    for (const index of [0, 2]) {
      const [alone] = await loaded.pipeline.generate([batch[index]!]);
      expect(Buffer.from(images[index]!.pixels).equals(Buffer.from(alone!.pixels)), `request ${index}`).toBe(true);
    }
    expect(Buffer.from(images[0]!.pixels).equals(Buffer.from(images[2]!.pixels))).toBe(false);
  });

  it('stops a batch nobody wants within one step', async () => {
    const steps: StepProgress[] = [];
    const images = await loaded.pipeline.generate(batch, {
      isWanted: () => steps.length < 1,
      onStep: (progress) => steps.push(progress),
    });
    expect(images).toEqual([undefined, undefined, undefined]);
    expect(steps.map((progress) => progress.step)).toEqual([1]);
  });

  it("narrows all three of an fp16 export's text inputs to the rows left, as float16 bits", async () => {
    const turbo = await openTurbo();
    try {
      const { pipeline, unet } = turbo;
      const steps: StepProgress[] = [];
      // Rows [zeroed unconditional, lighthouse] for request 0, [apple] for request 1; request 0 leaves
      // after step 1.
      const apple = { ...turboRequest, steps: 3, prompt: 'a red apple', seed: 10, guidance: 0 };
      const pair = [{ ...turboRequest, steps: 3 }, apple];
      const images = await pipeline.generate(pair, {
        isWanted: (index) => index !== 0 || steps.length < 1,
        onStep: (progress) => steps.push(progress),
      });
      expect(images[0]).toBeUndefined();
      expect(unet.runs.map((run) => run.feeds['sample']!.dims[0])).toEqual([3, 1, 1]);
      for (const name of ['encoder_hidden_states', 'text_embeds', 'time_ids']) {
        const [first, second, third] = unet.runs.map((run) => run.feeds[name]!);
        expect(second!.type, name).toBe('float16');
        expect(second!.dims, name).toEqual([1, ...first!.dims.slice(1)]);
        expect([...rowBits(second!, 0)], name).toEqual([...rowBits(first!, 2)]);
        expect(third, name).toBe(second);
      }
      unet.runs.length = 0;
      const [alone] = await pipeline.generate([pair[1]!]);
      expect(Buffer.from(images[1]!.pixels).equals(Buffer.from(alone!.pixels))).toBe(true);
    } finally {
      await turbo.release();
    }
  });
});

describe('a VAE that decodes to NaN', () => {
  let tokenizer: ClipTokenizer;
  let schedulerConfig: Record<string, unknown>;
  beforeAll(async () => {
    tokenizer = await ClipTokenizer.fromFolder(join(FIXTURES, 'tiny-sd/tokenizer'));
    schedulerConfig = JSON.parse(await readFile(join(FIXTURES, 'tiny-sd/scheduler/scheduler_config.json'), 'utf8'));
  });

  /** Stand-in networks whose VAE output gets `value` (float32, or float16 bits) at one position. */
  function pipelineDecoding(float: StandInFloat, value: number): StableDiffusionPipeline {
    const networks = standInNetworks({ float, kind: 'computed', hidden: 64 });
    const vaeDecoder: ModelSession = {
      ...networks.vaeDecoder,
      run: async (feeds) => {
        const outputs = await networks.vaeDecoder.run(feeds);
        const name = networks.vaeDecoder.outputNames[0]!;
        outputs[name]!.data[17] = value;
        return outputs;
      },
    };
    const conditioner = new ClipTextConditioner(tokenizer, networks.textEncoder);
    const { unet } = networks;
    return new StableDiffusionPipeline({ conditioner, unet, vaeDecoder, schedulerConfig, vaeScalingFactor: 0.13025 });
  }

  const request: ResolvedGeneration = {
    prompt: 'a lighthouse',
    negative_prompt: '',
    seed: 1,
    steps: 2,
    guidance: 1,
    width: 32,
    height: 32,
    scheduler: 'euler',
  };

  it.each([
    ['float32 NaN', 'float32', Number.NaN],
    ['float16 quiet NaN', 'float16', 0x7e00],
    ['float16 NaN with the lowest payload bit', 'float16', 0x7c01],
    ['float16 negative NaN', 'float16', 0xfe00],
  ] as const)('refuses %s, saying what to use instead', async (_name, float, value) => {
    await expect(pipelineDecoding(float, value).generate([request])).rejects.toThrow(
      /decoded to NaN \(float16 overflow\?\); use an fp32 VAE decoder or an fp16-safe one such as sdxl-vae-fp16-fix/,
    );
  });

  it.each([
    ['float32 infinity', 'float32', Number.POSITIVE_INFINITY, 255],
    ['float16 infinity', 'float16', 0x7c00, 255],
    ['float16 negative infinity', 'float16', 0xfc00, 0],
  ] as const)('paints %s, clipped like any value past ±1', async (_name, float, value, red) => {
    const [image] = await pipelineDecoding(float, value).generate([request]);
    // Value 17 of the [1, 3, 32, 32] output is the red channel of pixel (17, 0).
    expect(image!.pixels[17 * 3]).toBe(red);
  });
});
