// diffusers' own full-loop scheduler tests, run against the ports: the same deterministic dummy
// sample and model (tests/schedulers/test_schedulers.py), the same configs, and the result_sum /
// result_mean each test pins, to the tolerance it uses. Noise for Euler ancestral and LCM comes
// from a port of torch.manual_seed(0)'s CPU generator, as in those tests.
import { describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  LCMScheduler,
  PNDMScheduler,
  type Scheduler,
} from '../../../../gpu-function/pipeline/schedulers';
import { dummyModel, dummySampleDeter, sumAndMeanAbs } from './diffusers-harness';
import { TorchGenerator } from './torch-generator';

const LINEAR = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };

/** `full_loop` of the DDIM, PNDM, DPM-Solver and LCM tests: model(sample, t), step, no input scaling. */
function fullLoop(scheduler: Scheduler, steps: number): Float32Array {
  const generator = new TorchGenerator(0);
  scheduler.setTimesteps(steps);
  let sample = dummySampleDeter();
  for (const t of scheduler.timesteps) sample = scheduler.step(dummyModel(sample, t), t, sample, generator);
  return sample;
}

/**
 * The Euler tests' loop: sample × init_noise_sigma, then per step scale_model_input (whose result
 * replaces the sample, as those tests write it), model, step.
 */
function eulerLoop(scheduler: Scheduler, steps: number): Float32Array {
  scheduler.setTimesteps(steps);
  const generator = new TorchGenerator(0);
  const sigma = Math.fround(scheduler.initNoiseSigma);
  let sample: Float32Array = dummySampleDeter().map((x) => Math.fround(x * sigma));
  for (const t of scheduler.timesteps) {
    sample = scheduler.scaleModelInput(sample, t);
    sample = scheduler.step(dummyModel(sample, t), t, sample, generator);
  }
  return sample;
}

interface Case {
  test: string;
  run: () => Float32Array;
  sum?: [number, number];
  mean: [number, number];
}

const DPM_TEST_CONFIG = {
  ...LINEAR,
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: false,
  euler_at_final: false,
  lambda_min_clipped: -Infinity,
  variance_type: null,
  final_sigmas_type: 'sigma_min',
};
const EULER_TEST_CONFIG = { ...LINEAR, num_train_timesteps: 1100 };
const LCM_TEST_CONFIG = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', prediction_type: 'epsilon' };
const DDIM_TEST_CONFIG = { ...LINEAR, clip_sample: true };

const cases: Case[] = [
  // tests/schedulers/test_scheduler_pndm.py
  { test: 'pndm test_full_loop_no_noise', run: () => fullLoop(new PNDMScheduler(LINEAR), 10), sum: [198.1318, 1e-2], mean: [0.258, 1e-3] },
  {
    test: 'pndm test_full_loop_with_v_prediction',
    run: () => fullLoop(new PNDMScheduler({ ...LINEAR, prediction_type: 'v_prediction' }), 10),
    sum: [67.3986, 1e-2],
    mean: [0.0878, 1e-3],
  },
  {
    test: 'pndm test_full_loop_with_set_alpha_to_one',
    run: () => fullLoop(new PNDMScheduler({ ...LINEAR, set_alpha_to_one: true, beta_start: 0.01 }), 10),
    sum: [230.0399, 1e-2],
    mean: [0.2995, 1e-3],
  },
  {
    test: 'pndm test_full_loop_with_no_set_alpha_to_one',
    run: () => fullLoop(new PNDMScheduler({ ...LINEAR, set_alpha_to_one: false, beta_start: 0.01 }), 10),
    sum: [186.9482, 1e-2],
    mean: [0.2434, 1e-3],
  },
  // tests/schedulers/test_scheduler_ddim.py (eta = 0)
  { test: 'ddim test_full_loop_no_noise', run: () => fullLoop(new DDIMScheduler(DDIM_TEST_CONFIG), 10), sum: [172.0067, 1e-2], mean: [0.223967, 1e-3] },
  {
    test: 'ddim test_full_loop_with_v_prediction',
    run: () => fullLoop(new DDIMScheduler({ ...DDIM_TEST_CONFIG, prediction_type: 'v_prediction' }), 10),
    sum: [52.5302, 1e-2],
    mean: [0.0684, 1e-3],
  },
  {
    test: 'ddim test_full_loop_with_set_alpha_to_one',
    run: () => fullLoop(new DDIMScheduler({ ...DDIM_TEST_CONFIG, set_alpha_to_one: true, beta_start: 0.01 }), 10),
    sum: [149.8295, 1e-2],
    mean: [0.1951, 1e-3],
  },
  {
    test: 'ddim test_full_loop_with_no_set_alpha_to_one',
    run: () => fullLoop(new DDIMScheduler({ ...DDIM_TEST_CONFIG, set_alpha_to_one: false, beta_start: 0.01 }), 10),
    sum: [149.0784, 1e-2],
    mean: [0.1941, 1e-3],
  },
  // tests/schedulers/test_scheduler_euler.py
  { test: 'euler test_full_loop_no_noise', run: () => eulerLoop(new EulerDiscreteScheduler(EULER_TEST_CONFIG), 10), sum: [10.0807, 1e-2], mean: [0.0131, 1e-3] },
  {
    test: 'euler test_full_loop_with_v_prediction',
    run: () => eulerLoop(new EulerDiscreteScheduler({ ...EULER_TEST_CONFIG, prediction_type: 'v_prediction' }), 10),
    sum: [0.0002, 1e-2],
    mean: [2.2676e-6, 1e-3],
  },
  // tests/schedulers/test_scheduler_euler_ancestral.py (noise from torch.manual_seed(0))
  {
    test: 'euler_a test_full_loop_no_noise',
    run: () => eulerLoop(new EulerAncestralDiscreteScheduler(EULER_TEST_CONFIG), 10),
    sum: [152.3192, 1e-2],
    mean: [0.1983, 1e-3],
  },
  {
    test: 'euler_a test_full_loop_with_v_prediction',
    run: () => eulerLoop(new EulerAncestralDiscreteScheduler({ ...EULER_TEST_CONFIG, prediction_type: 'v_prediction' }), 10),
    sum: [108.4439, 1e-2],
    mean: [0.1412, 1e-3],
  },
  // tests/schedulers/test_scheduler_dpm_multi.py (these pin only the mean)
  { test: 'dpm test_full_loop_no_noise', run: () => fullLoop(new DPMSolverMultistepScheduler(DPM_TEST_CONFIG), 10), mean: [0.3301, 1e-3] },
  {
    test: 'dpm test_full_loop_with_v_prediction',
    run: () => fullLoop(new DPMSolverMultistepScheduler({ ...DPM_TEST_CONFIG, prediction_type: 'v_prediction' }), 10),
    mean: [0.2251, 1e-3],
  },
  // tests/schedulers/test_scheduler_lcm.py (multistep noise from torch.manual_seed(0))
  { test: 'lcm test_full_loop_onestep', run: () => fullLoop(new LCMScheduler(LCM_TEST_CONFIG), 1), sum: [18.7097, 1e-3], mean: [0.0244, 1e-3] },
  { test: 'lcm test_full_loop_multistep', run: () => fullLoop(new LCMScheduler(LCM_TEST_CONFIG), 10), sum: [197.7616, 1e-3], mean: [0.2575, 1e-3] },
];

describe("diffusers' full-loop tests", () => {
  it.each(cases)('$test', ({ run, sum, mean }) => {
    const result = sumAndMeanAbs(run());
    if (sum !== undefined) expect(Math.abs(result.sum - sum[0])).toBeLessThan(sum[1]);
    expect(Math.abs(result.mean - mean[0])).toBeLessThan(mean[1]);
  });
});

describe('the torch generator port behind those tests', () => {
  // torch.manual_seed(0); torch.randn(16) (torch 2.13, CPU), to 1e-6.
  it('reproduces torch.randn for seed 0', () => {
    const expected = [
      -1.1258398294448853, -1.152360200881958, -0.2505785822868347, -0.4338788092136383, 0.8487103581428528,
      0.6920091509819031, -0.31601276993751526, -2.1152193546295166, 0.32227492332458496, -1.2633347511291504,
      0.34998318552970886, 0.30813392996788025, 0.11984150856733322, 1.237657904624939, 1.1167771816253662,
      -0.2472781538963318,
    ];
    const values = new TorchGenerator(0).randn(16);
    values.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-6));
  });

  it('starts from the standard MT19937 stream (first output for seed 5489 is 3499211612)', () => {
    expect(new TorchGenerator(5489).random()).toBe(3499211612);
  });
});
