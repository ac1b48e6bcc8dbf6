// The GPU function's settings: the environment parsed once, at the process edge, into a frozen object
// that is passed down (nothing below main.ts reads process.env). Every variable, its default and its
// meaning are listed in docs/gpu-function.md; a bad value stops the process with one line per
// variable, naming the variable but never echoing a value (GPU_FUNCTION_TOKEN and HF_TOKEN are secrets).
import { z } from 'zod';
import { MAX_GUIDANCE, MAX_IMAGE_SIDE, MAX_STEPS, SCHEDULER_NAMES, type SchedulerName } from './contract';
import { hubSettingsFromEnv, type Environment, type HubSettings } from './model/hub-settings';
import { MODEL_PROFILE_FILE, type ModelProfile } from './model/model-profile';
import type { ExecutionProviderSetting } from './pipeline/onnx-runtime';

/** Width and height must be multiples of the VAE's 8× downsampling at the very least. */
const LATENT_MULTIPLE = 8;

/** Bounds and defaults of one generation; what `GET /v1/model` reports as `defaults` and `limits`. */
export interface GenerationLimits {
  readonly minSide: number;
  readonly maxSide: number;
  readonly sideMultiple: number;
  readonly maxSteps: number;
}

export interface GenerationDefaults {
  readonly steps: number;
  readonly guidance: number;
  readonly width: number;
  readonly height: number;
  /** undefined: the model's own scheduler (its scheduler_config.json `_class_name`). */
  readonly scheduler: SchedulerName | undefined;
}

export interface GpuFunctionConfig {
  /** A Hub repo id (optionally `@revision`) or a local folder; '' means model-spec.ts's default model. */
  readonly model: string;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /**
   * PORT_HEALTH (RunPod's name): a second port that answers /ping, /healthz and /metrics only;
   * undefined when unset or equal to PORT (the probes are always on PORT too).
   */
  readonly healthPort: number | undefined;
  /** When set, every /v1 call needs `Authorization: Bearer <token>`. Never logged. */
  readonly token: string | undefined;
  readonly provider: ExecutionProviderSetting;
  readonly intraOpThreads: number | undefined;
  readonly batching: {
    readonly maxBatchSize: number;
    readonly batchTimeoutMs: number;
    readonly maxQueue: number;
  };
  /** Longest time a request may take from arrival to answer; past it, 504. */
  readonly requestTimeoutMs: number;
  /** After SIGTERM, how long running and queued work may take before the process exits anyway. */
  readonly shutdownGraceMs: number;
  /** Built-in values unless the environment set them; a model folder's dreamurl.json may still fill the rest (settingsForModel). */
  readonly limits: GenerationLimits;
  readonly defaults: GenerationDefaults;
  /** Which of the generation settings above the environment set explicitly (they beat the model's profile). */
  readonly explicitGenerationSettings: ReadonlySet<GenerationSettingName>;
  /** Open the port only once the model is warm (LISTEN_WHEN_READY=1), instead of at once. */
  readonly listenWhenReady: boolean;
  /** Denoising steps of the start-up generation (at the default size); 0 skips the warm-up. */
  readonly warmupSteps: number;
  readonly hub: HubSettings;
}

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.int().min(min).max(max));

const count = (fallback: number, min: number, max: number) =>
  wholeNumber(min, max)
    .optional()
    .transform((v) => v ?? fallback);

const decimal = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number')
    .transform(Number)
    .pipe(z.number().min(min).max(max))
    .optional()
    .transform((v) => v ?? fallback);

/** '' counts as unset, as most platforms cannot remove a variable once it is in a template. */
const emptyAsUnset = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const envSchema = z.object({
  MODEL: z.string().trim().optional().transform((v) => v ?? ''),
  HOST: z.string().trim().min(1).optional().transform((v) => v ?? '127.0.0.1'),
  PORT: count(8788, 0, 65_535),
  PORT_HEALTH: wholeNumber(0, 65_535).optional(),
  GPU_FUNCTION_TOKEN: z.string().optional(),
  EXECUTION_PROVIDER: z
    .enum(['auto', 'cuda', 'cpu'])
    .optional()
    .transform((v) => v ?? 'auto'),
  INTRA_OP_THREADS: wholeNumber(1, 1024).optional(),
  MAX_BATCH_SIZE: count(4, 1, 64),
  BATCH_TIMEOUT_MS: count(100, 0, 60_000),
  MAX_QUEUE: count(32, 0, 100_000),
  REQUEST_TIMEOUT_MS: count(120_000, 1, 3_600_000),
  SHUTDOWN_GRACE_MS: count(25_000, 0, 3_600_000),
  MIN_SIDE: count(64, LATENT_MULTIPLE, MAX_IMAGE_SIDE),
  MAX_SIDE: count(1024, LATENT_MULTIPLE, MAX_IMAGE_SIDE),
  SIDE_MULTIPLE: count(64, LATENT_MULTIPLE, MAX_IMAGE_SIDE),
  MAX_STEPS: count(MAX_STEPS, 1, MAX_STEPS),
  DEFAULT_STEPS: count(50, 1, MAX_STEPS),
  DEFAULT_GUIDANCE: decimal(7.5, 0, MAX_GUIDANCE),
  DEFAULT_WIDTH: count(512, LATENT_MULTIPLE, MAX_IMAGE_SIDE),
  DEFAULT_HEIGHT: count(512, LATENT_MULTIPLE, MAX_IMAGE_SIDE),
  DEFAULT_SCHEDULER: z.enum(SCHEDULER_NAMES).optional(),
  WARMUP_STEPS: count(2, 0, MAX_STEPS),
  LISTEN_WHEN_READY: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((v) => v === '1' || v === 'true'),
});

const NAMES = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One entry per bad variable: `NAME: what is wrong` (never the value). */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid gpu-function configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function configFromEnv(env: Environment): GpuFunctionConfig {
  const raw = Object.fromEntries(NAMES.map((name) => [name, emptyAsUnset(env[name])]));
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const v = parsed.data;
  const limits: GenerationLimits = Object.freeze({
    minSide: v.MIN_SIDE,
    maxSide: v.MAX_SIDE,
    sideMultiple: v.SIDE_MULTIPLE,
    maxSteps: v.MAX_STEPS,
  });
  const defaults: GenerationDefaults = Object.freeze({
    steps: v.DEFAULT_STEPS,
    guidance: v.DEFAULT_GUIDANCE,
    width: v.DEFAULT_WIDTH,
    height: v.DEFAULT_HEIGHT,
    scheduler: v.DEFAULT_SCHEDULER,
  });
  const problems = consistencyProblems(limits, defaults);
  if (problems.length > 0) throw new ConfigError(problems);
  const explicitGenerationSettings = new Set(
    GENERATION_SETTING_NAMES.filter((name) => raw[name] !== undefined),
  ) as ReadonlySet<GenerationSettingName>;
  return Object.freeze({
    model: v.MODEL,
    host: v.HOST,
    port: v.PORT,
    healthPort: v.PORT_HEALTH === undefined || (v.PORT_HEALTH === v.PORT && v.PORT !== 0) ? undefined : v.PORT_HEALTH,
    token: v.GPU_FUNCTION_TOKEN,
    provider: v.EXECUTION_PROVIDER,
    intraOpThreads: v.INTRA_OP_THREADS,
    batching: Object.freeze({
      maxBatchSize: v.MAX_BATCH_SIZE,
      batchTimeoutMs: v.BATCH_TIMEOUT_MS,
      maxQueue: v.MAX_QUEUE,
    }),
    requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    limits,
    defaults,
    explicitGenerationSettings,
    warmupSteps: v.WARMUP_STEPS,
    listenWhenReady: v.LISTEN_WHEN_READY,
    hub: hubSettingsFromEnv(env),
  });
}

/** The variables that set a generation default or limit, each naming a field of the model profile. */
const GENERATION_SETTINGS = Object.freeze({
  MIN_SIDE: ['limits', 'min_side', 'minSide'],
  MAX_SIDE: ['limits', 'max_side', 'maxSide'],
  SIDE_MULTIPLE: ['limits', 'side_multiple', 'sideMultiple'],
  MAX_STEPS: ['limits', 'max_steps', 'maxSteps'],
  DEFAULT_STEPS: ['defaults', 'steps', 'steps'],
  DEFAULT_GUIDANCE: ['defaults', 'guidance', 'guidance'],
  DEFAULT_WIDTH: ['defaults', 'width', 'width'],
  DEFAULT_HEIGHT: ['defaults', 'height', 'height'],
  DEFAULT_SCHEDULER: ['defaults', 'scheduler', 'scheduler'],
} as const);
export type GenerationSettingName = keyof typeof GENERATION_SETTINGS;
const GENERATION_SETTING_NAMES = Object.keys(GENERATION_SETTINGS) as GenerationSettingName[];

/**
 * The defaults and limits for one model: the environment's where it set them, else the model folder's
 * profile (dreamurl.json), else the built-in ones. Throws ConfigError when the mix is inconsistent.
 */
export function settingsForModel(
  config: Pick<GpuFunctionConfig, 'defaults' | 'limits' | 'explicitGenerationSettings'>,
  profile: ModelProfile,
): { defaults: GenerationDefaults; limits: GenerationLimits } {
  const defaults: Record<string, unknown> = { ...config.defaults };
  const limits: Record<string, unknown> = { ...config.limits };
  for (const name of GENERATION_SETTING_NAMES) {
    if (config.explicitGenerationSettings.has(name)) continue;
    const [section, profileKey, configKey] = GENERATION_SETTINGS[name];
    const value = (profile[section] as Record<string, unknown> | undefined)?.[profileKey];
    if (value !== undefined) (section === 'limits' ? limits : defaults)[configKey] = value;
  }
  const merged = { defaults: Object.freeze(defaults) as unknown as GenerationDefaults, limits: Object.freeze(limits) as unknown as GenerationLimits };
  const problems = consistencyProblems(merged.limits, merged.defaults);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${p} (after the model's ${MODEL_PROFILE_FILE})`));
  return merged;
}

/** The limits must admit at least one size, and the defaults must be a request the limits accept. */
function consistencyProblems(limits: GenerationLimits, defaults: GenerationDefaults): string[] {
  const problems: string[] = [];
  if (limits.sideMultiple % LATENT_MULTIPLE !== 0) {
    problems.push(`SIDE_MULTIPLE: must be a multiple of ${LATENT_MULTIPLE} (the VAE downsamples by 8)`);
  }
  if (limits.minSide > limits.maxSide) problems.push('MIN_SIDE: must not exceed MAX_SIDE');
  if (limits.minSide % limits.sideMultiple !== 0) problems.push('MIN_SIDE: must be a multiple of SIDE_MULTIPLE');
  if (limits.maxSide % limits.sideMultiple !== 0) problems.push('MAX_SIDE: must be a multiple of SIDE_MULTIPLE');
  for (const [name, side] of [['DEFAULT_WIDTH', defaults.width], ['DEFAULT_HEIGHT', defaults.height]] as const) {
    if (side < limits.minSide || side > limits.maxSide || side % limits.sideMultiple !== 0) {
      problems.push(`${name}: must lie within MIN_SIDE…MAX_SIDE and be a multiple of SIDE_MULTIPLE`);
    }
  }
  if (defaults.steps > limits.maxSteps) problems.push('DEFAULT_STEPS: must not exceed MAX_STEPS');
  return problems;
}
