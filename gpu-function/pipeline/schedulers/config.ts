// Reading a scheduler class's settings out of a model's scheduler_config.json the way diffusers'
// ConfigMixin.from_config does: keys the class's __init__ knows carry over, unknown keys are
// ignored, missing keys (or JSON null) take that class's own default.
import { z } from 'zod';
import type { RawSchedulerConfig } from './scheduler';

/** A config key with the class's default for a missing or null value. */
export function setting<T extends z.ZodType>(schema: T, fallback: z.output<T>) {
  return schema.nullish().transform((value): z.output<T> => value ?? fallback);
}

/** Defaults of the beta-schedule keys, which differ between classes (LCM defaults to SD's). */
export interface BetaDefaults {
  readonly beta_start: number;
  readonly beta_end: number;
  readonly beta_schedule: string;
}

/** diffusers' DDPM-era defaults, shared by PNDM, DDIM, Euler, Euler ancestral and DPM-Solver. */
export const DDPM_BETAS: BetaDefaults = { beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };

/** The keys every ported class reads to build its beta schedule. */
export function betaScheduleFields(defaults: BetaDefaults) {
  return {
    num_train_timesteps: setting(z.int().positive(), 1000),
    beta_start: setting(z.number(), defaults.beta_start),
    beta_end: setting(z.number(), defaults.beta_end),
    beta_schedule: setting(z.string(), defaults.beta_schedule),
    trained_betas: z
      .array(z.number())
      .nullish()
      .transform((value) => value ?? null),
  };
}

/** Parses `raw` with a class's schema; errors name the class and the offending key. */
export function parseSchedulerConfig<T extends z.ZodType>(
  className: string,
  schema: T,
  raw: RawSchedulerConfig,
): Readonly<z.output<T>> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`);
    throw new TypeError(`Invalid ${className} config: ${problems.join('; ')}`);
  }
  return Object.freeze(result.data);
}

/** Rejects a setting this port does not implement, instead of silently computing something else. */
export function requireSetting(className: string, key: string, value: unknown, supported: readonly unknown[]): void {
  if (!supported.includes(value)) {
    const list = supported.map((s) => JSON.stringify(s)).join(', ');
    throw new RangeError(`${className}: ${key}=${JSON.stringify(value)} is not supported here (supported: ${list})`);
  }
}
