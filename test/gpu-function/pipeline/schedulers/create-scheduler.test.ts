// Scheduler names → configured schedulers, as diffusers' from_config and the ONNX pipeline's
// constructor configure them from a model's scheduler_config.json.
import { describe, expect, it } from 'vitest';
import { SCHEDULER_CLASS_NAMES, SCHEDULER_NAMES } from '../../../../contract';
import {
  createScheduler,
  DDIMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  LCMScheduler,
  PNDMScheduler,
  schedulerNameForClass,
} from '../../../../gpu-function/pipeline/schedulers';
import { sdSchedulerConfig } from './fixtures';

/** stabilityai/stable-diffusion-2-1's scheduler/scheduler_config.json (a v-prediction model). */
const SD21_CONFIG = {
  _class_name: 'DDIMScheduler',
  _diffusers_version: '0.8.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  prediction_type: 'v_prediction',
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

describe('schedulerNameForClass', () => {
  it.each(SCHEDULER_NAMES.map((name) => [SCHEDULER_CLASS_NAMES[name], name] as const))('%s → %s', (cls, name) => {
    expect(schedulerNameForClass(cls)).toBe(name);
  });

  it.each(['LMSDiscreteScheduler', 'UniPCMultistepScheduler', ''])('%j has no port', (cls) => {
    expect(schedulerNameForClass(cls)).toBeUndefined();
  });
});

describe('createScheduler picks the class', () => {
  it.each([
    ['pndm', PNDMScheduler],
    ['ddim', DDIMScheduler],
    ['euler', EulerDiscreteScheduler],
    ['euler_a', EulerAncestralDiscreteScheduler],
    ['dpmpp_2m', DPMSolverMultistepScheduler],
    ['lcm', LCMScheduler],
  ] as const)('%s', (name, cls) => {
    expect(createScheduler(name, sdSchedulerConfig)).toBeInstanceOf(cls);
  });

  it("without a name, the model's own class (_class_name), configured as if it had been named", () => {
    const own = createScheduler(undefined, sdSchedulerConfig);
    expect(own).toBeInstanceOf(PNDMScheduler);
    const named = createScheduler('pndm', sdSchedulerConfig);
    own.setTimesteps(20);
    named.setTimesteps(20);
    expect(own.timesteps).toEqual(named.timesteps);
    expect(createScheduler(undefined, SD21_CONFIG)).toBeInstanceOf(DDIMScheduler);
  });

  it('without a name, a class with no port or no _class_name is a clear error', () => {
    expect(() => createScheduler(undefined, { ...sdSchedulerConfig, _class_name: 'LMSDiscreteScheduler' })).toThrow(
      /LMSDiscreteScheduler has no port here; name one of pndm, ddim, euler, euler_a, dpmpp_2m, lcm/,
    );
    const { _class_name: _, ...withoutClass } = sdSchedulerConfig;
    expect(() => createScheduler(undefined, withoutClass)).toThrow(/no _class_name/);
  });
});

describe('configuration as from_config does it', () => {
  it("carries over the keys the class knows (SD's scaled_linear betas into DDIM)", () => {
    const ddim = createScheduler('ddim', sdSchedulerConfig) as DDIMScheduler;
    expect(ddim.config).toMatchObject({
      num_train_timesteps: 1000,
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      set_alpha_to_one: false,
    });
  });

  it("ignores keys the class does not know (PNDM's skip_prk_steps for Euler, anything else)", () => {
    const euler = createScheduler('euler', { ...sdSchedulerConfig, not_a_setting: 42 }) as EulerDiscreteScheduler;
    expect(euler.config).not.toHaveProperty('skip_prk_steps');
    expect(euler.config).not.toHaveProperty('not_a_setting');
  });

  it("fills missing keys with that class's own defaults (the PNDM config has no timestep_spacing)", () => {
    const spacing = (name: (typeof SCHEDULER_NAMES)[number]): unknown =>
      (createScheduler(name, sdSchedulerConfig) as unknown as { config: { timestep_spacing: string } }).config.timestep_spacing;
    expect(spacing('pndm')).toBe('leading');
    expect(spacing('ddim')).toBe('leading');
    expect(spacing('euler')).toBe('linspace');
    expect(spacing('euler_a')).toBe('linspace');
    expect(spacing('dpmpp_2m')).toBe('linspace');
    expect(spacing('lcm')).toBe('leading');
    const lcm = createScheduler('lcm', {}) as LCMScheduler;
    expect(lcm.config).toMatchObject({ beta_schedule: 'scaled_linear', original_inference_steps: 50, set_alpha_to_one: true });
  });

  it('treats JSON null as missing', () => {
    const ddim = new DDIMScheduler({ beta_schedule: null, steps_offset: null, trained_betas: null });
    expect(ddim.config).toMatchObject({ beta_schedule: 'linear', steps_offset: 0, trained_betas: null });
  });

  it('rejects a value of the wrong type, naming the class and key', () => {
    expect(() => createScheduler('ddim', { ...sdSchedulerConfig, beta_start: '0.00085' })).toThrow(
      /Invalid DDIMScheduler config: beta_start: /,
    );
    expect(() => new EulerDiscreteScheduler({ num_train_timesteps: 10.5 })).toThrow(TypeError);
  });

  it('applies prediction_type from the model (SD 2.1 predicts v)', () => {
    expect((createScheduler('ddim', SD21_CONFIG) as DDIMScheduler).config.prediction_type).toBe('v_prediction');
    expect((createScheduler('euler', SD21_CONFIG) as EulerDiscreteScheduler).config.prediction_type).toBe('v_prediction');
  });
});

describe("what OnnxStableDiffusionPipeline.__init__ forces", () => {
  it('steps_offset = 1, whatever the config says', () => {
    const ddim = createScheduler('ddim', { ...sdSchedulerConfig, steps_offset: 0 });
    ddim.setTimesteps(5);
    expect(ddim.timesteps).toEqual([801, 601, 401, 201, 1]);
    // The class alone keeps the config's value: diffusers' DDIMScheduler(steps_offset=0).
    const plain = new DDIMScheduler({ ...sdSchedulerConfig, steps_offset: 0 });
    plain.setTimesteps(5);
    expect(plain.timesteps).toEqual([800, 600, 400, 200, 0]);
  });

  it('clip_sample = false (DDIM defaults to true)', () => {
    expect((createScheduler('ddim', { _class_name: 'DDIMScheduler' }) as DDIMScheduler).config.clip_sample).toBe(false);
    expect(new DDIMScheduler({}).config.clip_sample).toBe(true);
  });

  it('dpmpp_2m is always DPM-Solver++ of order 2', () => {
    const dpm = createScheduler('dpmpp_2m', {
      _class_name: 'DPMSolverMultistepScheduler',
      algorithm_type: 'sde-dpmsolver++',
      solver_order: 3,
    }) as DPMSolverMultistepScheduler;
    expect(dpm.config).toMatchObject({ algorithm_type: 'dpmsolver++', solver_order: 2, lower_order_final: true });
  });
});

describe('settings this port does not implement are refused, not ignored', () => {
  it.each([
    ['euler', { use_karras_sigmas: true }, /use_karras_sigmas=true is not supported/],
    ['euler', { interpolation_type: 'log_linear' }, /interpolation_type="log_linear"/],
    ['euler', { timestep_type: 'continuous' }, /timestep_type/],
    ['euler_a', { prediction_type: 'sample' }, /prediction_type="sample"/],
    ['dpmpp_2m', { use_karras_sigmas: true }, /use_karras_sigmas/],
    ['dpmpp_2m', { thresholding: true }, /thresholding/],
    ['dpmpp_2m', { variance_type: 'learned_range' }, /variance_type/],
    ['ddim', { thresholding: true }, /thresholding/],
    ['pndm', { prediction_type: 'sample' }, /prediction_type/],
    ['lcm', { prediction_type: 'flow' }, /prediction_type/],
  ] as const)('%s with %j', (name, settings, message) => {
    expect(() => createScheduler(name, { ...sdSchedulerConfig, ...settings })).toThrow(message);
  });

  it('an unknown beta_schedule, as diffusers raises NotImplementedError', () => {
    expect(() => createScheduler('euler', { ...sdSchedulerConfig, beta_schedule: 'sigmoid' })).toThrow(
      'beta_schedule "sigmoid" is not one EulerDiscreteScheduler accepts',
    );
  });
});

describe('misuse is an error, not NaN latents', () => {
  it.each(['pndm', 'ddim', 'dpmpp_2m', 'lcm'] as const)('%s.step throws like diffusers', (name) => {
    const scheduler = createScheduler(name, sdSchedulerConfig);
    const sample = new Float32Array(4);
    expect(() => scheduler.step(sample, 1, sample, { randn: (n) => new Float32Array(n) })).toThrow(/set_timesteps/);
  });

  it.each(['pndm', 'ddim', 'lcm'] as const)('%s.step with a timestep that is not a training timestep', (name) => {
    const scheduler = createScheduler(name, sdSchedulerConfig);
    scheduler.setTimesteps(4);
    const sample = new Float32Array(4);
    const noise = { randn: (n: number) => new Float32Array(n) };
    expect(() => scheduler.step(sample, 1000, sample, noise)).toThrow(/not a training timestep|not in the schedule/);
    expect(() => scheduler.step(sample, 500.5, sample, noise)).toThrow(/not a training timestep|not in the schedule/);
  });

  it.each(['euler', 'euler_a'] as const)('%s with a timestep outside its schedule', (name) => {
    const scheduler = createScheduler(name, sdSchedulerConfig);
    scheduler.setTimesteps(4);
    expect(() => scheduler.scaleModelInput(new Float32Array(4), 500)).toThrow(/not in the schedule/);
  });
});
