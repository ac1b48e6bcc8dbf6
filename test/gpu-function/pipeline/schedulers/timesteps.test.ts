// Which timesteps (and σs) each scheduler feeds the UNet, for each timestep_spacing: diffusers'
// own pinned values, the reference images' manifest, and the torch/numpy transcription fixture.
import { describe, expect, it } from 'vitest';
import type { SchedulerName } from '../../../../contract';
import {
  createScheduler,
  DDIMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  LCMScheduler,
  PNDMScheduler,
  type Scheduler,
} from '../../../../gpu-function/pipeline/schedulers';
import { referenceManifest, schedulesFixture, sdSchedulerConfig } from './fixtures';

const DDPM_LINEAR = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };

function timestepsOf(scheduler: Scheduler, steps: number): number[] {
  scheduler.setTimesteps(steps);
  return [...scheduler.timesteps];
}

describe("diffusers' pinned timesteps", () => {
  it.each([
    {
      // tests/schedulers/test_scheduler_ddim.py::test_steps_offset
      what: 'DDIM, steps_offset=1, 5 steps',
      scheduler: new DDIMScheduler({ ...DDPM_LINEAR, steps_offset: 1 }),
      steps: 5,
      expected: [801, 601, 401, 201, 1],
    },
    {
      // tests/schedulers/test_scheduler_pndm.py::test_steps_offset (Runge-Kutta warm-up, no skip_prk_steps)
      what: 'PNDM with PRK warm-up, steps_offset=1, 10 steps',
      scheduler: new PNDMScheduler({ ...DDPM_LINEAR, steps_offset: 1 }),
      steps: 10,
      expected: [901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1],
    },
  ])('$what', ({ scheduler, steps, expected }) => {
    expect(timestepsOf(scheduler, steps)).toEqual(expected);
  });

  // tests/schedulers/test_scheduler_lcm.py::test_inference_steps ("Hardcoded for now"): the last
  // timestep of the LCM schedule for each step count.
  it.each([
    [10, 99],
    [25, 39],
    [26, 39],
    [50, 19],
  ])('LCM with %i steps ends at timestep %i', (steps, last) => {
    const timesteps = timestepsOf(new LCMScheduler({ prediction_type: 'epsilon' }), steps);
    expect(timesteps).toHaveLength(steps);
    expect(timesteps.at(-1)).toBe(last);
  });

  // tests/schedulers/test_scheduler_dpm_multi.py::test_duplicated_timesteps
  it('DPM-Solver with as many steps as training steps keeps one timestep per step', () => {
    const scheduler = new DPMSolverMultistepScheduler({ ...DDPM_LINEAR, solver_order: 2 });
    expect(timestepsOf(scheduler, 1000)).toHaveLength(1000);
  });
});

describe('the three spacings of Lin et al. 2023, Table 2 (T = 1000, 10 steps, 0-based here)', () => {
  it.each([
    ['linspace', [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]],
    ['leading', [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]],
    ['trailing', [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]],
  ])('DDIM %s', (spacing, expected) => {
    const scheduler = new DDIMScheduler({ ...DDPM_LINEAR, steps_offset: 1, timestep_spacing: spacing });
    expect(timestepsOf(scheduler, 10)).toEqual(expected);
  });
});

describe('the reference images: timesteps the UNet saw and init_noise_sigma (tiny-sd-refs/manifest.json)', () => {
  it.each(referenceManifest.map((entry) => ({ ...entry, name: entry.request.scheduler, steps: entry.request.steps })))(
    '$name, $steps steps',
    ({ request, unet_timesteps, init_noise_sigma }) => {
      const scheduler = createScheduler(request.scheduler, sdSchedulerConfig);
      expect(timestepsOf(scheduler, request.steps)).toEqual(unet_timesteps);
      expect(scheduler.initNoiseSigma).toBe(init_noise_sigma);
    },
  );
});

describe('every scheduler × spacing × step count against the torch/numpy transcription (schedules.json)', () => {
  const sigmaClasses = [EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, DPMSolverMultistepScheduler];
  it.each(schedulesFixture.schedules)(
    '$scheduler, $timestep_spacing, $steps steps',
    ({ scheduler: name, timestep_spacing, steps, timesteps, init_noise_sigma, sigmas }) => {
      const scheduler = createScheduler(name, { ...schedulesFixture.model_config, timestep_spacing });
      expect(timestepsOf(scheduler, steps)).toEqual(timesteps);
      expect(scheduler.initNoiseSigma).toBe(init_noise_sigma);
      if (sigmas !== undefined) {
        const withSigmas = sigmaClasses.find((cls) => scheduler instanceof cls);
        expect(withSigmas).toBeDefined();
        expect(Array.from((scheduler as InstanceType<(typeof sigmaClasses)[number]>).sigmas)).toEqual(sigmas);
      }
    },
  );

  it('covers every scheduler name and, except LCM (which has no spacing), every spacing', () => {
    const seen = new Set(schedulesFixture.schedules.map((s) => `${s.scheduler}/${s.timestep_spacing}`));
    const names: SchedulerName[] = ['pndm', 'ddim', 'euler', 'euler_a', 'dpmpp_2m'];
    for (const name of names) {
      for (const spacing of ['leading', 'trailing', 'linspace']) expect(seen).toContain(`${name}/${spacing}`);
    }
    expect(seen).toContain('lcm/leading');
  });
});

describe('Euler timesteps and σ for Stable Diffusion', () => {
  it('are fractional with linspace spacing and start at σ_max', () => {
    const scheduler = createScheduler('euler', sdSchedulerConfig) as EulerDiscreteScheduler;
    scheduler.setTimesteps(25);
    expect(scheduler.timesteps.slice(0, 3)).toEqual([999, 957.375, 915.75]);
    const sigmas = scheduler.sigmas;
    expect(sigmas).toHaveLength(26);
    expect(sigmas[0]).toBe(14.614645004272461);
    expect(sigmas[25]).toBe(0);
  });

  it('uses √(σ_max² + 1) as init_noise_sigma with leading spacing', () => {
    const scheduler = new EulerDiscreteScheduler({ ...sdSchedulerConfig, timestep_spacing: 'leading' });
    scheduler.setTimesteps(10);
    const max = scheduler.sigmas[0]!;
    expect(scheduler.initNoiseSigma).toBe(Math.fround(Math.sqrt(Math.fround(Math.fround(max * max) + 1))));
  });
});

describe('set_timesteps rejects what diffusers rejects', () => {
  const classes = [PNDMScheduler, DDIMScheduler, EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, DPMSolverMultistepScheduler];

  it.each(classes.map((cls) => [cls.name, cls] as const))('%s: an unknown timestep_spacing', (_, cls) => {
    const scheduler = new cls({ ...sdSchedulerConfig, timestep_spacing: 'uniform' });
    expect(() => scheduler.setTimesteps(10)).toThrow(/timestep_spacing "uniform" is not supported/);
  });

  it.each(classes.map((cls) => [cls.name, cls] as const))('%s: more steps than training timesteps, or none', (_, cls) => {
    const scheduler = new cls(sdSchedulerConfig);
    expect(() => scheduler.setTimesteps(1001)).toThrow(RangeError);
    expect(() => scheduler.setTimesteps(0)).toThrow(RangeError);
    expect(() => scheduler.setTimesteps(2.5)).toThrow(RangeError);
  });

  it('LCM: more steps than original_inference_steps', () => {
    expect(() => new LCMScheduler(sdSchedulerConfig).setTimesteps(51)).toThrow(/original_inference_steps/);
  });
});
