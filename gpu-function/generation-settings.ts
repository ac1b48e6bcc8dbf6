// The defaults and limits one model is served with, and the batch budget: where each comes from (the
// environment, else the model folder's dreamurl.json, else built in) and the checks that the mix is one a
// client can use. The cost limits' built-in values depend on the execution provider, as they are sized
// so that the largest batch they admit fits the machine (docs/gpu-function.md, "Sizing the cost limits"):
// they are decided once the pipeline knows whether it runs on CUDA or on the CPU.
import {
  costLimits,
  type ModelDefaults,
  type ModelLimits,
  type ProfileField,
  profileProblems,
  type SchedulerName,
} from '../contract';
import { ConfigError, type GpuFunctionConfig } from './config';
import { MODEL_PROFILE_FILE, type ModelProfile } from './model/model-profile';
import type { ExecutionProvider } from './pipeline/onnx-runtime';

/** The defaults of `GET /v1/model`, but the scheduler may be left to the model. */
export interface GenerationDefaults extends Omit<ModelDefaults, 'scheduler'> {
  /** undefined: the model's own scheduler (its scheduler_config.json `_class_name`). */
  readonly scheduler: SchedulerName | undefined;
}

export interface CostBudgets {
  /** MAX_PIXELS: most pixels of one picture (width × height). */
  readonly maxPixels: number;
  /** MAX_PIXEL_STEPS: most width × height × steps of one request. */
  readonly maxPixelSteps: number;
  /** MAX_BATCH_PIXELS: most pixels of all the pictures of one batch together. */
  readonly maxBatchPixels: number;
}

/**
 * Built in, per execution provider, for SD 1.x in fp32 (the default model). Each is sized so that the
 * largest batch it admits fits the machine it is for, with room to spare; start-up checks it by running
 * that batch (warm-up.ts). Another machine or model: set MAX_PIXELS, MAX_PIXEL_STEPS, MAX_BATCH_PIXELS.
 */
export const BUILT_IN_BUDGETS: Readonly<Record<ExecutionProvider, CostBudgets>> = Object.freeze({
  // A 24 GB GPU (L4, A10G, RTX 4090): one 768² picture (or 1024 × 576), four 512² ones per batch;
  // 50 steps at 768², 112 at 512². Attention over 96² latent tokens is what bounds a single picture.
  cuda: Object.freeze({ maxPixels: 768 * 768, maxPixelSteps: 768 * 768 * 50, maxBatchPixels: 4 * 512 * 512 }),
  // A machine of 16 GB without a GPU: SD 1.x's native 512², one at a time, 50 steps (minutes on a CPU).
  cpu: Object.freeze({ maxPixels: 512 * 512, maxPixelSteps: 512 * 512 * 50, maxBatchPixels: 512 * 512 }),
});

/** The variables that set a generation default or limit, each naming a field of the model profile. */
const GENERATION_SETTINGS = Object.freeze({
  MIN_SIDE: 'limits.min_side',
  MAX_SIDE: 'limits.max_side',
  SIDE_MULTIPLE: 'limits.side_multiple',
  MAX_STEPS: 'limits.max_steps',
  MAX_PIXELS: 'limits.max_pixels',
  MAX_PIXEL_STEPS: 'limits.max_pixel_steps',
  DEFAULT_STEPS: 'defaults.steps',
  DEFAULT_GUIDANCE: 'defaults.guidance',
  DEFAULT_WIDTH: 'defaults.width',
  DEFAULT_HEIGHT: 'defaults.height',
  DEFAULT_SCHEDULER: 'defaults.scheduler',
} as const satisfies Record<string, ProfileField>);
export type GenerationSettingName = keyof typeof GENERATION_SETTINGS;
export const GENERATION_SETTING_NAMES = Object.keys(GENERATION_SETTINGS) as GenerationSettingName[];
const SETTING_OF_FIELD = new Map<ProfileField, string>(
  GENERATION_SETTING_NAMES.map((name) => [GENERATION_SETTINGS[name], name]),
);

export interface ModelSettings {
  readonly defaults: GenerationDefaults;
  /** With max_pixels and max_pixel_steps always set once the provider is known. */
  readonly limits: ModelLimits;
  /** undefined until the provider is known, unless MAX_BATCH_PIXELS set it. */
  readonly maxBatchPixels: number | undefined;
}

/**
 * The defaults and limits for one model: the environment's where it set them, else the model folder's
 * profile (dreamurl.json), else the built-in ones — for the cost limits, those of `provider`; without a
 * provider (not known yet) they stay as the environment and the profile left them. Throws ConfigError
 * when the mix is inconsistent.
 */
export function settingsForModel(
  config: Pick<GpuFunctionConfig, 'defaults' | 'limits' | 'explicitGenerationSettings' | 'batching'>,
  profile: ModelProfile,
  provider?: ExecutionProvider,
): ModelSettings {
  const merged = { defaults: { ...config.defaults }, limits: { ...config.limits } };
  for (const name of GENERATION_SETTING_NAMES) {
    if (config.explicitGenerationSettings.has(name)) continue;
    const [section, key] = GENERATION_SETTINGS[name].split('.') as ['defaults' | 'limits', string];
    const value = (profile[section] as Record<string, unknown> | undefined)?.[key];
    if (value !== undefined) (merged[section] as Record<string, unknown>)[key] = value;
  }
  let maxBatchPixels = config.batching.maxBatchPixels;
  if (provider !== undefined) {
    const builtIn = BUILT_IN_BUDGETS[provider];
    merged.limits.max_pixels ??= builtIn.maxPixels;
    merged.limits.max_pixel_steps ??= builtIn.maxPixelSteps;
    // A family whose own size is larger than the provider's built-in batch (SDXL's 1024²) runs its
    // largest picture alone rather than not at all; set MAX_BATCH_PIXELS to say otherwise.
    maxBatchPixels ??= Math.max(builtIn.maxBatchPixels, merged.limits.max_pixels);
  }
  const problems = consistencyProblems(merged.limits, merged.defaults);
  if (maxBatchPixels !== undefined && merged.limits.max_pixels !== undefined && maxBatchPixels < merged.limits.max_pixels) {
    problems.push('MAX_BATCH_PIXELS: must be at least MAX_PIXELS, so that the largest picture fits in a batch');
  }
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => `${p} (after the model's ${MODEL_PROFILE_FILE})`));
  }
  return { defaults: Object.freeze(merged.defaults), limits: Object.freeze(merged.limits), maxBatchPixels };
}

/** The limits must admit at least one size, and the defaults must be a request the limits accept. */
export function consistencyProblems(limits: ModelLimits, defaults: GenerationDefaults): string[] {
  const nameOf = (field: ProfileField) => SETTING_OF_FIELD.get(field) ?? field;
  return profileProblems({ limits, defaults }, nameOf).map((p) => `${nameOf(p.field)}: ${p.message}`);
}

/** The cost limits of settings whose provider is known. */
export function budgetsOf(settings: ModelSettings): CostBudgets {
  const { maxPixels, maxPixelSteps } = costLimits(settings.limits);
  return { maxPixels, maxPixelSteps, maxBatchPixels: settings.maxBatchPixels ?? maxPixels };
}
