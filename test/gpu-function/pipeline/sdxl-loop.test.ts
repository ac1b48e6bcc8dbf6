// What the shared denoising loop does with SDXL's inputs beyond matching the reference pictures: an fp16
// export's text conditioning reaches its fp16 UNet as the text encoders' own float16 bits (joined, never
// decoded and re-encoded), built once per batch and fed unchanged at every step, with the zeroed
// unconditional row and the size conditioning in place; and a VAE that decodes to NaN (float16 overflow,
// SDXL's original VAE in fp16) is refused instead of painting a black picture.
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedGeneration } from '../../../contract';
import { float32ToFloat16Array } from '../../../gpu-function/pipeline/float16';
import { readModelFolder } from '../../../gpu-function/model/model-folder';
import { openModelSession, type HostTensor, type ModelSession } from '../../../gpu-function/pipeline/onnx-runtime';
import {
  penultimateHiddenState,
  POOLED_OUTPUT,
  SdxlTextConditioner,
} from '../../../gpu-function/pipeline/sdxl-text-conditioning';
import { StableDiffusionPipeline } from '../../../gpu-function/pipeline/stable-diffusion';
import { ClipTextConditioner } from '../../../gpu-function/pipeline/text-conditioning';
import { ClipTokenizer } from '../../../gpu-function/pipeline/tokenizer/clip-tokenizer';
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

describe('tiny-sdxl-turbo (fp16): the conditioning reaches the UNet as float16 bits', () => {
  const sessions: ModelSession[] = [];
  const open = async (path: string) => {
    const session = await openModelSession(path, { provider: 'cpu', log });
    sessions.push(session);
    return session;
  };
  afterAll(() => Promise.all(sessions.map((session) => session.release())));

  let encoder1: ReturnType<typeof recorded>;
  let encoder2: ReturnType<typeof recorded>;
  let unet: ReturnType<typeof recorded>;
  beforeAll(async () => {
    const folder = await readModelFolder(join(FIXTURES, 'tiny-sdxl-turbo'));
    encoder1 = recorded(await open(folder.graphs.textEncoder));
    encoder2 = recorded(await open(folder.sdxl!.textEncoder2));
    unet = recorded(await open(folder.graphs.unet));
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
    const request: ResolvedGeneration = {
      prompt: 'a lighthouse at dusk',
      negative_prompt: '',
      seed: 9,
      steps: 2,
      guidance: 2,
      width: 64,
      height: 48,
      scheduler: 'euler_a',
    };
    // Rows: [zeroed unconditional, "a lighthouse at dusk", "a red apple"].
    await pipeline.generate([request, { ...request, prompt: 'a red apple', seed: 10, guidance: 0 }]);
  });

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
