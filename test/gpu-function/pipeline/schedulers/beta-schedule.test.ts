// The noise schedule every scheduler starts from: betas and ᾱ_t in torch float32.
import { describe, expect, it } from 'vitest';
import { noiseSchedule, type BetaScheduleConfig } from '../../../../gpu-function/pipeline/schedulers/beta-schedule';
import { fmaf, torchCumprodFloat32, torchLinspaceFloat32 } from '../../../../gpu-function/pipeline/schedulers/torch-float32';
import { schedulesFixture } from './fixtures';

const config = (overrides: Partial<BetaScheduleConfig>): BetaScheduleConfig => ({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  ...overrides,
});
const SD = config({ beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' });

describe('alphas_cumprod equals the torch float32 computation bit for bit (schedules.json)', () => {
  it.each([
    ['scaled_linear(0.00085, 0.012)', SD, false],
    ['linear(0.0001, 0.02)', config({}), false],
    ['squaredcos_cap_v2', config({ beta_schedule: 'squaredcos_cap_v2' }), false],
    ['scaled_linear(0.00085, 0.012), rescale_betas_zero_snr', SD, true],
  ] as const)('%s', (key, cfg, rescale) => {
    const expected = schedulesFixture.alphas_cumprod[key];
    expect(expected).toBeDefined();
    expect(Array.from(noiseSchedule('test', cfg, rescale).alphasCumprod)).toEqual(expected);
  });
});

describe("diffusers' DDIM variances (tests/schedulers/test_scheduler_ddim.py::test_variance, to 1e-5)", () => {
  // _get_variance(t, prev) = (1 − ᾱ_prev)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_prev) for the linear schedule.
  const ac = noiseSchedule('test', config({})).alphasCumprod;
  const variance = (t: number, prev: number): number => {
    const [a, aPrev] = [ac[t]!, ac[prev]!];
    return Math.fround(Math.fround(Math.fround(1 - aPrev) / Math.fround(1 - a)) * Math.fround(1 - Math.fround(a / aPrev)));
  };
  it.each([
    [0, 0, 0],
    [420, 400, 0.14771],
    [980, 960, 0.3246],
    [487, 486, 0.00979],
    [999, 998, 0.02],
  ])('_get_variance(%i, %i) ≈ %f', (t, prev, expected) => {
    expect(Math.abs(variance(t, prev) - expected)).toBeLessThan(1e-5);
  });
});

describe('Stable Diffusion σ range', () => {
  it('σ_max is the manifest init_noise_sigma and σ_min the well-known 0.0291675', () => {
    const ac = noiseSchedule('test', SD).alphasCumprod;
    const sigma = (t: number): number => Math.fround(Math.sqrt(Math.fround(Math.fround(1 - ac[t]!) / ac[t]!)));
    expect(sigma(999)).toBe(14.614645004272461);
    expect(sigma(0)).toBeCloseTo(0.0291675, 7);
  });

  it('trained_betas bypass beta_schedule and are rounded to float32', () => {
    const { betas } = noiseSchedule('test', config({ num_train_timesteps: 3, beta_schedule: 'nope', trained_betas: [0.1, 0.2, 0.3] }));
    expect(Array.from(betas)).toEqual([Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)]);
  });

  it('an unknown beta_schedule is an error naming the class', () => {
    expect(() => noiseSchedule('DDIMScheduler', config({ beta_schedule: 'cosine' }))).toThrow(
      'beta_schedule "cosine" is not one DDIMScheduler accepts (linear, scaled_linear, squaredcos_cap_v2)',
    );
  });
});

describe('torch float32 kernels', () => {
  it('linspace meets both ends and is float32', () => {
    const values = torchLinspaceFloat32(0.0001, 0.02, 1000);
    expect(values[0]).toBe(Math.fround(0.0001));
    expect(values[999]).toBe(Math.fround(0.02));
    expect(Array.from(torchLinspaceFloat32(2, 5, 1))).toEqual([2]);
  });

  it('cumprod accumulates in double and rounds each partial product once', () => {
    const values = Float32Array.from([0.999, 0.998, 0.997]);
    const expected = [values[0]!, values[0]! * values[1]!, values[0]! * values[1]! * values[2]!].map(Math.fround);
    expect(Array.from(torchCumprodFloat32(values))).toEqual(expected);
  });

  // Found by searching with exact rational arithmetic (Python fractions): a·b + c lands within
  // double precision on the midpoint 1 + 2^−24, so rounding to double first would round to 1.
  it.each([
    [5.815087300575783e-11, 1025, 1],
    [4.6969775291394456e-11, 1269, 1],
  ])('fmaf(%f, %i, %i) rounds the exact sum once', (a, b, c) => {
    expect(Math.fround(a * b + c)).toBe(1);
    expect(fmaf(a, b, c)).toBe(1.0000001192092896);
  });
});
