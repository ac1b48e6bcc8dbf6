// Whole denoising loops driven the way the ONNX pipeline drives a scheduler, bit for bit against
// the torch float32 transcription of diffusers (loops.json, made by make-fixtures.py): latents =
// RandomState(seed).randn(1, 4, 8, 8) × init_noise_sigma; per timestep scale_model_input, a
// stand-in UNet (diffusers' dummy model, sample · t / (t + 1)), step; Euler-ancestral and LCM
// noise continues from the same RandomState.
import { describe, expect, it } from 'vitest';
import { RandomState } from '../../../../gpu-function/pipeline/random/numpy-random-state';
import { createScheduler } from '../../../../gpu-function/pipeline/schedulers';
import type { NormalSource } from '../../../../gpu-function/pipeline/types';
import { dummyModel } from './diffusers-harness';
import { loopsFixture, type LoopFixture } from './fixtures';

const LATENTS = 4 * 8 * 8;

function runLoop({ scheduler: name, overrides, steps, seed }: LoopFixture, wrap = (rs: NormalSource) => rs): Float32Array {
  const scheduler = createScheduler(name, { ...loopsFixture.model_config, ...overrides });
  scheduler.setTimesteps(steps);
  const random = new RandomState(seed);
  const sigma = Math.fround(scheduler.initNoiseSigma);
  let latents: Float32Array = random.randn(LATENTS).map((x) => Math.fround(x * sigma));
  const noise = wrap(random);
  for (const t of scheduler.timesteps) {
    const modelInput = scheduler.scaleModelInput(latents, t);
    latents = scheduler.step(dummyModel(modelInput, t), t, latents, noise);
  }
  return latents;
}

/**
 * The loop as the pipeline runs it: one latents buffer stepped in place, the UNet's input scaled into
 * one reused buffer, and the model output written into one reused buffer that the next step overwrites
 * (so a scheduler that kept a reference instead of a copy would read the wrong history).
 */
function runLoopInPlace({ scheduler: name, overrides, steps, seed }: LoopFixture): Float32Array {
  const scheduler = createScheduler(name, { ...loopsFixture.model_config, ...overrides });
  scheduler.setTimesteps(steps);
  const random = new RandomState(seed);
  const sigma = Math.fround(scheduler.initNoiseSigma);
  const latents = random.randn(LATENTS);
  for (let i = 0; i < LATENTS; i++) latents[i] = Math.fround(latents[i]! * sigma);
  const scaled = new Float32Array(LATENTS);
  const modelOutput = new Float32Array(LATENTS);
  for (const t of scheduler.timesteps) {
    const modelInput = scheduler.scaleModelInput(latents, t, scaled);
    modelOutput.set(dummyModel(modelInput, t));
    const next = scheduler.step(modelOutput, t, latents, random, latents);
    expect(next).toBe(latents);
    modelOutput.fill(Number.NaN);
    scaled.fill(Number.NaN);
  }
  return latents;
}

const LOOPS = loopsFixture.loops.map((loop) => ({ ...loop, label: JSON.stringify(loop.overrides) }));

describe('denoising loops equal the torch float32 transcription of diffusers', () => {
  it.each(LOOPS)('$scheduler $label, $steps steps', (loop) => {
    expect(Array.from(runLoop(loop))).toEqual(loop.latents);
  });

  it.each(LOOPS)('stepped in place into reused buffers: $scheduler $label, $steps steps', (loop) => {
    expect(Array.from(runLoopInPlace(loop))).toEqual(loop.latents);
  });
  it('PNDM with Runge-Kutta warm-up steps (skip_prk_steps false) in place equals the allocating loop', () => {
    const loop: LoopFixture = { scheduler: 'pndm', overrides: { skip_prk_steps: false, prediction_type: 'v_prediction' }, steps: 8, seed: 5, latents: [] };
    expect(Array.from(runLoopInPlace(loop))).toEqual(Array.from(runLoop(loop)));
  });

  it('refuses an output buffer of another length', () => {
    const scheduler = createScheduler('euler', loopsFixture.model_config);
    scheduler.setTimesteps(4);
    const t = scheduler.timesteps[0]!;
    const latents = new RandomState(1).randn(LATENTS);
    expect(() => scheduler.step(latents, t, latents, new RandomState(2), new Float32Array(LATENTS - 1))).toThrow(RangeError);
  });
});

describe('noise drawn from the request generator (the documented contract)', () => {
  /** Counts the normals each step draws. */
  function countingDraws(loop: LoopFixture): number[] {
    const draws: number[] = [];
    runLoop(loop, (rs) => ({
      randn(count) {
        draws.push(count);
        return rs.randn(count);
      },
    }));
    return draws;
  }
  const loop = (scheduler: LoopFixture['scheduler'], steps: number): LoopFixture => ({ scheduler, overrides: {}, steps, seed: 1, latents: [] });

  it('euler_a draws one normal per latent value on every step, the last included', () => {
    expect(countingDraws(loop('euler_a', 6))).toEqual(Array(6).fill(LATENTS));
  });

  it('lcm draws on every step but the last, and not at all with one step', () => {
    expect(countingDraws(loop('lcm', 4))).toEqual(Array(3).fill(LATENTS));
    expect(countingDraws(loop('lcm', 1))).toEqual([]);
  });

  it.each(['pndm', 'ddim', 'euler', 'dpmpp_2m'] as const)('%s draws nothing', (name) => {
    expect(countingDraws(loop(name, 5))).toEqual([]);
  });

  it('a different seed gives a different euler_a result, the same seed the same one', () => {
    const a = runLoop(loop('euler_a', 5));
    expect(runLoop(loop('euler_a', 5))).toEqual(a);
    expect(runLoop({ ...loop('euler_a', 5), seed: 2 })).not.toEqual(a);
  });
});

describe('step leaves its inputs alone', () => {
  it.each(['pndm', 'ddim', 'euler', 'euler_a', 'dpmpp_2m', 'lcm'] as const)('%s', (name) => {
    const scheduler = createScheduler(name, loopsFixture.model_config);
    scheduler.setTimesteps(4);
    const random = new RandomState(3);
    const latents = random.randn(LATENTS);
    const before = latents.slice();
    const t = scheduler.timesteps[0]!;
    const modelInput = scheduler.scaleModelInput(latents, t);
    const output = dummyModel(modelInput, t);
    const outputBefore = output.slice();
    const next = scheduler.step(output, t, latents, random);
    expect(latents).toEqual(before);
    expect(output).toEqual(outputBefore);
    expect(next).not.toBe(latents);
    expect(next).toHaveLength(LATENTS);
  });
});
