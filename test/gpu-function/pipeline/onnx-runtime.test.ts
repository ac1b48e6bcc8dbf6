// The onnxruntime-node boundary on the real tiny-sd graphs. Reference values come from onnxruntime 1.30
// in Python (/work/team/pyref) on the same inputs (the formulas are repeated in the comments); the CPU
// kernels may sum in another order with other thread counts, hence the 1e-5 tolerance.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  feedFrom,
  inputTensor,
  makeTensor,
  openModelSession,
  readFloat32,
  sessionOptionsFor,
  type ModelSession,
} from '../../../gpu-function/pipeline/onnx-runtime';

const TINY_SD = 'test/fixtures/tiny-sd';
const INT64_EXTERNAL = 'test/fixtures/tiny-sd-int64-external';
const FLOAT16_PROBE = 'test/fixtures/float16-probe/model.onnx';

// Whether this machine can run CUDA at all: the CUDA build of onnxruntime-node and an NVIDIA device.
const cudaPossible =
  existsSync('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so') &&
  existsSync('/dev/nvidia0');

const cpu = { provider: 'cpu' as const, log: () => {} };

/** np.sin(np.arange(n) * step) * scale, as float32. */
function wave(n: number, step: number, scale = 1, fn: (x: number) => number = Math.sin): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => fn(i * step) * scale);
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], indices: readonly number[]): void {
  indices.forEach((index, k) => expect(actual[index]).toBeCloseTo(expected[k] ?? Number.NaN, 5));
}

function sumAbs(values: Float32Array): number {
  return values.reduce((sum, v) => sum + Math.abs(v), 0);
}

describe('execution providers', () => {
  it.skipIf(cudaPossible)('auto falls back to the CPU with one log line, once per process', async () => {
    const lines: string[] = [];
    const first = await openModelSession(`${TINY_SD}/vae_decoder/model.onnx`, { provider: 'auto', log: (l) => lines.push(l) });
    expect(first.provider).toBe('cpu');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^onnxruntime: CUDA is not available \(.+\); running on the CPU/);
    const second = await openModelSession(`${TINY_SD}/text_encoder/model.onnx`, { provider: 'auto', log: (l) => lines.push(l) });
    expect(second.provider).toBe('cpu');
    expect(lines).toHaveLength(1);
    await Promise.all([first.release(), second.release()]);
  });

  it.skipIf(cudaPossible)('cuda fails loudly when CUDA cannot be used', async () => {
    await expect(openModelSession(`${TINY_SD}/vae_decoder/model.onnx`, { provider: 'cuda', log: () => {} })).rejects.toThrow(
      /EXECUTION_PROVIDER=cuda, but onnxruntime could not use CUDA for test\/fixtures\/tiny-sd\/vae_decoder\/model\.onnx: .*ONNXRUNTIME_NODE_INSTALL=cuda12/,
    );
  });

  it.runIf(cudaPossible)('auto and cuda run on the GPU where there is one', async () => {
    const lines: string[] = [];
    for (const provider of ['auto', 'cuda'] as const) {
      const session = await openModelSession(`${TINY_SD}/vae_decoder/model.onnx`, { provider, log: (l) => lines.push(l) });
      expect(session.provider).toBe('cuda');
      await session.release();
    }
    expect(lines).toEqual([]);
  });

  it('cpu uses the CPU and logs nothing', async () => {
    const lines: string[] = [];
    const session = await openModelSession(`${TINY_SD}/vae_decoder/model.onnx`, { provider: 'cpu', log: (l) => lines.push(l) });
    expect(session.provider).toBe('cpu');
    expect(lines).toEqual([]);
    await session.release();
  });

  it('rejects a thread count that is not a positive integer', async () => {
    await expect(openModelSession(`${TINY_SD}/vae_decoder/model.onnx`, { ...cpu, intraOpThreads: 0 })).rejects.toThrow(
      /intraOpThreads must be a positive integer/,
    );
  });

  it('names the file it could not load', async () => {
    await expect(openModelSession(`${TINY_SD}/unet/missing.onnx`, cpu)).rejects.toThrow(
      /onnxruntime could not load test\/fixtures\/tiny-sd\/unet\/missing\.onnx/,
    );
  });
});

describe('the tiny-sd graphs', () => {
  let unet: ModelSession;
  let textEncoder: ModelSession;
  let vae: ModelSession;
  beforeAll(async () => {
    [unet, textEncoder, vae] = await Promise.all([
      openModelSession(`${TINY_SD}/unet/model.onnx`, cpu),
      openModelSession(`${TINY_SD}/text_encoder/model.onnx`, cpu),
      openModelSession(`${TINY_SD}/vae_decoder/model.onnx`, cpu),
    ]);
  });
  afterAll(() => Promise.all([unet.release(), textEncoder.release(), vae.release()]));

  it('reports inputs and outputs from the graph metadata', () => {
    expect(unet.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(unet.outputNames).toEqual(['out_sample']);
    expect(unet.inputs.sample).toEqual({ name: 'sample', type: 'float32', shape: ['batch', 'channels', 'height', 'width'], rank: 4 });
    expect(unet.inputs.timestep).toEqual({ name: 'timestep', type: 'float32', shape: ['batch'], rank: 1 });
    expect(unet.inputs.encoder_hidden_states?.shape).toEqual(['batch', 'sequence', 32]);
    expect(textEncoder.inputs.input_ids).toEqual({ name: 'input_ids', type: 'int32', shape: ['batch', 'sequence'], rank: 2 });
    expect(textEncoder.outputNames).toEqual(['last_hidden_state', 'pooler_output']);
    expect(vae.inputs.latent_sample?.type).toBe('float32');
    expect(vae.outputs.sample?.shape[1]).toBe(3);
  });

  it('runs the UNet like onnxruntime in Python', async () => {
    // sample = sin(arange(512) * 0.37) as (2,4,8,8); timestep [801]; states = 0.5 cos(arange(4928) * 0.11)
    const out = await unet.run({
      sample: inputTensor(unet, 'sample', wave(512, 0.37), [2, 4, 8, 8]),
      timestep: inputTensor(unet, 'timestep', [801], [1]),
      encoder_hidden_states: inputTensor(unet, 'encoder_hidden_states', wave(2 * 77 * 32, 0.11, 0.5, Math.cos), [2, 77, 32]),
    });
    const noise = out.out_sample;
    expect(noise?.type).toBe('float32');
    expect(noise?.dims).toEqual([2, 4, 8, 8]);
    const values = readFloat32(noise!);
    expectClose(values, [0.10387873649597168, 2.8603322505950928, 3.81488299369812, 4.588037014007568, 4.006393909454346, 1.6946381330490112], [0, 1, 2, 3, 100, 511]);
    expect(sumAbs(values)).toBeCloseTo(1237.9901690781116, 2);
  });

  it('runs the text encoder on int32 ids built from JS numbers', async () => {
    const ids = Array.from({ length: 77 }, (_, i) => [49406, 320, 1929][i] ?? 49407);
    const feed = inputTensor(textEncoder, 'input_ids', ids, [1, 77]);
    expect(feed.type).toBe('int32');
    const out = await textEncoder.run({ input_ids: feed });
    expect(out.last_hidden_state?.dims).toEqual([1, 77, 32]);
    expectClose(readFloat32(out.last_hidden_state!), [1.06541907787323, 0.07103977352380753, 0.6192919611930847, -0.03968781977891922, 0.4649292528629303, -1.9099620580673218], [0, 1, 2, 31, 32, 2463]);
    expectClose(readFloat32(out.pooler_output!), [0.4060877561569214, 1.434841513633728, -1.562804937362671], [0, 1, 2]);
  });

  it('runs the VAE decoder', async () => {
    // latents = 2 sin(arange(256) * 0.21) as (1,4,8,8)
    const out = await vae.run({ latent_sample: inputTensor(vae, 'latent_sample', wave(256, 0.21, 2), [1, 4, 8, 8]) });
    expect(out.sample?.dims).toEqual([1, 3, 64, 64]);
    const image = readFloat32(out.sample!);
    expectClose(image, [0.140639066696167, 0.2222321331501007, -0.2738519012928009, 0.1528138518333435, 0.32428112626075745], [0, 1, 4095, 4096, 12287]);
    expect(sumAbs(image)).toBeCloseTo(4516.431677222252, 1);
  });

  it('refuses feeds that do not match the declared inputs', async () => {
    const sample = makeTensor('float32', wave(256, 0.37), [1, 4, 8, 8]);
    const states = makeTensor('float32', new Float32Array(77 * 32), [1, 77, 32]);
    await expect(unet.run({ sample, timestep: makeTensor('int64', [801], [1]), encoder_hidden_states: states })).rejects.toThrow(
      "input 'timestep' is float32, got int64",
    );
    await expect(unet.run({ sample, timestep: makeTensor('float32', [801], []), encoder_hidden_states: states })).rejects.toThrow(
      "input 'timestep' has shape [batch], got []",
    );
    await expect(unet.run({ sample, timestep: makeTensor('float32', [801], [1]), encoder_hidden_states: makeTensor('float32', new Float32Array(77 * 16), [1, 77, 16]) })).rejects.toThrow(
      "input 'encoder_hidden_states' has shape [batch, sequence, 32], got [1, 77, 16]",
    );
    await expect(unet.run({ sample, timestep: makeTensor('float32', [801], [1]) })).rejects.toThrow('needs input encoder_hidden_states');
    await expect(unet.run({ sample, latents: sample })).rejects.toThrow(/has no input 'latents' \(it takes sample, timestep, encoder_hidden_states\)/);
  });
});

describe('another export shape: int64 timestep, weights in unet/weights.pb', () => {
  it('loads the external weights next to the graph and reports timestep int64', async () => {
    const session = await openModelSession(resolve(INT64_EXTERNAL, 'unet/model.onnx'), cpu);
    expect(session.inputs.timestep).toEqual({ name: 'timestep', type: 'int64', shape: ['batch'], rank: 1 });
    await session.release();
  });

  it('computes what the float32-timestep UNet computes', async () => {
    const [floatUnet, intUnet] = await Promise.all([
      openModelSession(`${TINY_SD}/unet/model.onnx`, cpu),
      openModelSession(`${INT64_EXTERNAL}/unet/model.onnx`, cpu),
    ]);
    const feeds = (session: ModelSession) => ({
      sample: inputTensor(session, 'sample', wave(512, 0.37), [2, 4, 8, 8]),
      // Euler-style fractional timestep: int64 truncates it as numpy's astype does.
      timestep: inputTensor(session, 'timestep', [801.7], [1]),
      encoder_hidden_states: inputTensor(session, 'encoder_hidden_states', wave(2 * 77 * 32, 0.11, 0.5, Math.cos), [2, 77, 32]),
    });
    const intFeeds = feeds(intUnet);
    expect(intFeeds.timestep).toEqual({ type: 'int64', data: BigInt64Array.of(801n), dims: [1] });
    const fromInt = readFloat32((await intUnet.run(intFeeds)).out_sample!);
    const floatFeeds = { ...feeds(floatUnet), timestep: makeTensor('float32', [801], [1]) };
    const fromFloat = readFloat32((await floatUnet.run(floatFeeds)).out_sample!);
    expect(Array.from(fromInt)).toEqual(Array.from(fromFloat));
    await Promise.all([floatUnet.release(), intUnet.release()]);
  });

  it('fails clearly when the external weights are missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dreamurl-ort-'));
    try {
      await copyFile(`${INT64_EXTERNAL}/unet/model.onnx`, join(dir, 'model.onnx'));
      await expect(openModelSession(join(dir, 'model.onnx'), cpu)).rejects.toThrow(/could not load .*model\.onnx: .*weights\.pb/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('float16 tensors', () => {
  it('cross the boundary as exact bit patterns both ways', async () => {
    const session = await openModelSession(FLOAT16_PROBE, cpu);
    expect(session.inputs.x?.type).toBe('float16');
    // x: 1, 65504, 2^-24, NaN, -inf, 0.33325 as float16 bits; y: float32 values around float16 rounding edges.
    const x = { type: 'float16' as const, data: Uint16Array.of(0x3c00, 0x7bff, 0x0001, 0x7e00, 0xfc00, 0x3555), dims: [6] };
    const y = new Float32Array(new Uint32Array([0x3f801000, 0x3f803000, 0x33000001, 0x477ff000, 0x3dcccccd, 0xbe3a8588]).buffer);
    const out = await session.run({ x, y: inputTensor(session, 'y', y, [6]) });
    // onnxruntime (Python) gives doubled = [0x4000, 0x7c00, 0x2, 0x7e00, 0xfc00, 0x3955],
    // as_float = [0x3f800000, 0x477fe000, 0x33800000, 0x7fc00000, 0xff800000, 0x3eaaa000],
    // from_float = [0x3c00, 0x3c02, 0x1, 0x7c00, 0x2e66, 0xb1d4].
    expect(out.doubled?.type).toBe('float16');
    expect(Array.from(out.doubled!.data as Uint16Array)).toEqual([0x4000, 0x7c00, 0x2, 0x7e00, 0xfc00, 0x3955]);
    const asFloat = readFloat32(out.as_float!);
    expect(Array.from(new Uint32Array(asFloat.buffer, asFloat.byteOffset, 6))).toEqual([0x3f800000, 0x477fe000, 0x33800000, 0x7fc00000, 0xff800000, 0x3eaaa000]);
    // Our float32 -> float16 rounding agrees with onnxruntime's Cast.
    expect(Array.from(makeTensor('float16', y, [6]).data as Uint16Array)).toEqual(Array.from(out.from_float!.data as Uint16Array));
    expect(Array.from(readFloat32(out.doubled!))).toEqual([2, Number.POSITIVE_INFINITY, 2 ** -23, Number.NaN, Number.NEGATIVE_INFINITY, 0.66650390625]);
    await session.release();
  });
});

describe('makeTensor', () => {
  it('checks that dims hold the values', () => {
    expect(() => makeTensor('float32', [1, 2, 3], [2, 2])).toThrow('dims [2, 2] do not hold 3 values');
    expect(() => makeTensor('float32', [1], [1.5])).toThrow(RangeError);
  });

  it('truncates toward zero for integer dtypes and refuses what does not fit', () => {
    expect(Array.from(makeTensor('int32', [2.9, -2.9, 0], [3]).data)).toEqual([2, -2, 0]);
    expect(Array.from(makeTensor('int64', [999.99], [1]).data)).toEqual([999n]);
    expect(() => makeTensor('int32', [2 ** 31], [1])).toThrow('does not fit an integer tensor');
    expect(() => makeTensor('int64', [Number.NaN], [1])).toThrow('does not fit an integer tensor');
  });

  it('keeps float32 data without copying and converts other dtypes back to float32', () => {
    const data = Float32Array.of(1.5, -2);
    const tensor = makeTensor('float32', data, [2]);
    expect(tensor.data).toBe(data);
    expect(readFloat32(tensor)).toBe(data);
    expect(Array.from(readFloat32(makeTensor('float64', [0.1], [1])))).toEqual([Math.fround(0.1)]);
    expect(Array.from(readFloat32(makeTensor('int64', [7], [1])))).toEqual([7]);
  });
});

describe('feedFrom', () => {
  const session = (type: string) => ({
    path: 'graph.onnx',
    inputs: { x: { name: 'x', type, shape: ['batch', 2], rank: 2 } },
  });

  it("passes another graph's output on as it is when the dtypes agree", () => {
    const halves = makeTensor('float16', [0.5, -2, 65504, 1e-7], [2, 2]);
    expect(feedFrom(session('float16'), 'x', halves)).toBe(halves);
  });

  it('converts exactly when they do not: float16 → float32 and back', () => {
    const halves = makeTensor('float16', [0.5, -2, 65504, 1e-7], [2, 2]);
    const widened = feedFrom(session('float32'), 'x', halves);
    expect(widened).toMatchObject({ type: 'float32', dims: [2, 2] });
    expect(Array.from(widened.data as Float32Array)).toEqual([0.5, -2, 65504, 1.1920928955078125e-7]);
    expect(feedFrom(session('float16'), 'x', widened).data).toEqual(halves.data);
    expect(() => feedFrom(session('float16'), 'y', halves)).toThrow("graph.onnx has no input 'y'");
  });
});

describe('session settings per provider', () => {
  it('spreads CPU sessions over every core and leaves spinning on', () => {
    const options = sessionOptionsFor('cpu', {});
    expect(options.intraOpNumThreads).toBe(availableParallelism());
    expect(options.extra).toBeUndefined();
    // The arena for speed, no memory pattern: on the CPU it doubled the peak (RELIABILITY.md, "Memory").
    expect([options.enableCpuMemArena, options.enableMemPattern]).toEqual([true, false]);
    expect(sessionOptionsFor('cuda', {}).enableMemPattern).toBe(true);
  });

  it('keeps CUDA sessions off the cores the JavaScript needs: one intra-op thread, no spinning', () => {
    const options = sessionOptionsFor('cuda', {});
    expect(options.intraOpNumThreads).toBe(1);
    expect(options.extra).toEqual({ session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } });
    // INTRA_OP_THREADS still wins on either provider.
    expect(sessionOptionsFor('cuda', { intraOpThreads: 4 }).intraOpNumThreads).toBe(4);
    expect(() => sessionOptionsFor('cuda', { intraOpThreads: 0 })).toThrow(RangeError);
  });

  it("are settings onnxruntime-node 1.30 accepts (the CUDA ones tried on the CPU provider)", async () => {
    // Imported here only: the service reaches onnxruntime through onnx-runtime.ts alone.
    const { InferenceSession } = await import('onnxruntime-node');
    const session = await InferenceSession.create(`${TINY_SD}/vae_decoder/model.onnx`, {
      ...sessionOptionsFor('cuda', {}),
      executionProviders: ['cpu'],
    });
    expect(session.inputNames).toEqual(['latent_sample']);
    await session.release();
    // The binding checks the shape of `extra` (string values only), so a wrong one would have failed above.
    await expect(
      InferenceSession.create(`${TINY_SD}/vae_decoder/model.onnx`, { extra: { session: { intra_op: { allow_spinning: 0 } } } }),
    ).rejects.toThrow('sessionOptions.extra value must be a string');
  });
});
