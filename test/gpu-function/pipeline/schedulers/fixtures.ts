// Typed access to test/fixtures/schedulers (made by make-fixtures.py there: diffusers' scheduler
// code transcribed and run with torch float32 + numpy; see that script's docstring).
import { readFileSync } from 'node:fs';
import type { SchedulerName } from '../../../../contract';

export interface ScheduleFixture {
  scheduler: SchedulerName;
  timestep_spacing: string;
  steps: number;
  timesteps: number[];
  init_noise_sigma: number;
  sigmas?: number[];
}

export interface LoopFixture {
  scheduler: SchedulerName;
  overrides: Record<string, unknown>;
  steps: number;
  seed: number;
  latents: number[];
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../fixtures/schedulers/${name}`, import.meta.url), 'utf8')) as T;
}

export const schedulesFixture = load<{
  model_config: Record<string, unknown>;
  alphas_cumprod: Record<string, number[]>;
  schedules: ScheduleFixture[];
}>('schedules.json');

export const loopsFixture = load<{ model_config: Record<string, unknown>; loops: LoopFixture[] }>('loops.json');

/** SD 1.4's PNDM config, as the tiny-sd fixture ships it. */
export const sdSchedulerConfig = JSON.parse(
  readFileSync(new URL('../../../fixtures/tiny-sd/scheduler/scheduler_config.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

export const referenceManifest = JSON.parse(
  readFileSync(new URL('../../../fixtures/tiny-sd-refs/manifest.json', import.meta.url), 'utf8'),
) as {
  request: { scheduler: SchedulerName; steps: number };
  unet_timesteps: number[];
  init_noise_sigma: number;
}[];
