// The GPU function's settings: the environment parsed once, at the process edge, into a frozen object
// that is passed down (nothing below main.ts reads process.env). Every variable, its default and its
// meaning are listed in docs/gpu-function.md; a bad value stops the process with one line per
// variable, naming the variable but never echoing a value (GPU_FUNCTION_TOKEN, METRICS_TOKEN and HF_TOKEN
// are secrets). Two mistakes that would leave the service open are refused outright: a token that is set
// but blank (it used to mean "no token"), and a non-loopback HOST without GPU_FUNCTION_TOKEN unless
// ALLOW_UNAUTHENTICATED=1 says something in front authenticates.
import { z } from 'zod';
import {
  IMAGE_SIDE_MULTIPLE,
  issueLines,
  MAX_GUIDANCE,
  MAX_IMAGE_SIDE,
  MAX_STEPS,
  type ModelLimits,
  SCHEDULER_NAMES,
  unsetIfBlank,
} from '../contract';
import {
  consistencyProblems,
  type GenerationDefaults,
  GENERATION_SETTING_NAMES,
  type GenerationSettingName,
} from './generation-settings';
import { hubSettingsFromEnv, type Environment, type HubSettings } from './model/hub-settings';
import type { ExecutionProviderSetting } from './pipeline/onnx-runtime';

export type { GenerationDefaults, GenerationSettingName } from './generation-settings';
export { settingsForModel } from './generation-settings';

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
  /** When set, /metrics needs `Authorization: Bearer <it>`. Never logged. */
  readonly metricsToken: string | undefined;
  /** /metrics only on PORT_HEALTH (which must then be set), not on PORT. */
  readonly metricsOnHealthPortOnly: boolean;
  readonly provider: ExecutionProviderSetting;
  readonly intraOpThreads: number | undefined;
  readonly batching: {
    readonly maxBatchSize: number;
    readonly batchTimeoutMs: number;
    readonly maxQueue: number;
    /** MAX_BATCH_PIXELS: most pixels in one batch; undefined leaves it to the provider's built-in value. */
    readonly maxBatchPixels: number | undefined;
  };
  /** Longest time a request may take from arrival to answer; past it, 504. */
  readonly requestTimeoutMs: number;
  /** After SIGTERM, how long running and queued work may take before the process exits anyway. */
  readonly shutdownGraceMs: number;
  /**
   * Built-in values unless the environment set them; a model folder's dreamurl.json may still fill the rest
   * (settingsForModel). The cost limits (max_pixels, max_pixel_steps) are undefined unless the environment
   * set them: their built-in values depend on the execution provider (generation-settings.ts).
   */
  readonly limits: ModelLimits;
  readonly defaults: GenerationDefaults;
  /** Which of the generation settings above the environment set explicitly (they beat the model's profile). */
  readonly explicitGenerationSettings: ReadonlySet<GenerationSettingName>;
  /** Open the port only once the model is warm (LISTEN_WHEN_READY=1), instead of at once. */
  readonly listenWhenReady: boolean;
  /** Denoising steps of each start-up generation (warm-up.ts); 0 skips the warm-up. */
  readonly warmupSteps: number;
  /**
   * MEMORY_LIMIT_MB: the memory the process may use, for the start-up check (memory-check.ts); undefined:
   * the container's cgroup limit, else the machine's memory.
   */
  readonly memoryLimitMb: number | undefined;
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

const flag = z
  .enum(['0', '1', 'true', 'false'])
  .optional()
  .transform((v) => v === '1' || v === 'true');

/** A bearer token: what a client sends after `Bearer ` (HTTP trims the header value, so edges must be plain). */
const token = z
  .string()
  .refine((v) => v.trim() === v, 'must not start or end with white space')
  .optional();

/** Secrets a blank value must not switch off: set but blank is a mistake, not "no token". */
const SECRETS = ['GPU_FUNCTION_TOKEN', 'METRICS_TOKEN'] as const;

const envSchema = z.object({
  MODEL: z.string().trim().optional().transform((v) => v ?? ''),
  HOST: z.string().trim().min(1).optional().transform((v) => v ?? '127.0.0.1'),
  PORT: count(8788, 0, 65_535),
  PORT_HEALTH: wholeNumber(0, 65_535).optional(),
  GPU_FUNCTION_TOKEN: token,
  METRICS_TOKEN: token,
  METRICS_ON_HEALTH_PORT_ONLY: flag,
  ALLOW_UNAUTHENTICATED: flag,
  EXECUTION_PROVIDER: z
    .enum(['auto', 'cuda', 'cpu'])
    .optional()
    .transform((v) => v ?? 'auto'),
  INTRA_OP_THREADS: wholeNumber(1, 1024).optional(),
  MAX_BATCH_SIZE: count(4, 1, 64),
  BATCH_TIMEOUT_MS: count(0, 0, 60_000),
  MAX_QUEUE: count(32, 0, 100_000),
  REQUEST_TIMEOUT_MS: count(120_000, 1, 3_600_000),
  SHUTDOWN_GRACE_MS: count(25_000, 0, 3_600_000),
  MIN_SIDE: count(64, IMAGE_SIDE_MULTIPLE, MAX_IMAGE_SIDE),
  MAX_SIDE: count(1024, IMAGE_SIDE_MULTIPLE, MAX_IMAGE_SIDE),
  SIDE_MULTIPLE: count(64, IMAGE_SIDE_MULTIPLE, MAX_IMAGE_SIDE),
  MAX_STEPS: count(MAX_STEPS, 1, MAX_STEPS),
  MAX_PIXELS: wholeNumber(IMAGE_SIDE_MULTIPLE ** 2, MAX_IMAGE_SIDE ** 2).optional(),
  MAX_PIXEL_STEPS: wholeNumber(IMAGE_SIDE_MULTIPLE ** 2, MAX_IMAGE_SIDE ** 2 * MAX_STEPS).optional(),
  MAX_BATCH_PIXELS: wholeNumber(IMAGE_SIDE_MULTIPLE ** 2, MAX_IMAGE_SIDE ** 2 * 64).optional(),
  DEFAULT_STEPS: count(50, 1, MAX_STEPS),
  DEFAULT_GUIDANCE: decimal(7.5, 0, MAX_GUIDANCE),
  DEFAULT_WIDTH: count(512, IMAGE_SIDE_MULTIPLE, MAX_IMAGE_SIDE),
  DEFAULT_HEIGHT: count(512, IMAGE_SIDE_MULTIPLE, MAX_IMAGE_SIDE),
  DEFAULT_SCHEDULER: z.enum(SCHEDULER_NAMES).optional(),
  WARMUP_STEPS: count(2, 0, MAX_STEPS),
  MEMORY_LIMIT_MB: wholeNumber(1, 16 * 1024 * 1024).optional(),
  LISTEN_WHEN_READY: flag,
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
  const raw = Object.fromEntries(NAMES.map((name) => [name, unsetIfBlank(env[name])]));
  const blank = SECRETS.filter((name) => env[name] !== undefined && raw[name] === undefined);
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success || blank.length > 0) {
    throw new ConfigError([
      ...blank.map((name) => `${name}: is set but blank; give it a value, or remove the variable to run without one`),
      ...(parsed.success ? [] : issueLines(parsed.error)),
    ]);
  }
  const v = parsed.data;
  const exposure = exposureProblems(v);
  if (exposure.length > 0) throw new ConfigError(exposure);
  const limits: ModelLimits = Object.freeze({
    min_side: v.MIN_SIDE,
    max_side: v.MAX_SIDE,
    side_multiple: v.SIDE_MULTIPLE,
    max_steps: v.MAX_STEPS,
    ...(v.MAX_PIXELS === undefined ? {} : { max_pixels: v.MAX_PIXELS }),
    ...(v.MAX_PIXEL_STEPS === undefined ? {} : { max_pixel_steps: v.MAX_PIXEL_STEPS }),
  });
  const defaults: GenerationDefaults = Object.freeze({
    steps: v.DEFAULT_STEPS,
    guidance: v.DEFAULT_GUIDANCE,
    width: v.DEFAULT_WIDTH,
    height: v.DEFAULT_HEIGHT,
    scheduler: v.DEFAULT_SCHEDULER,
  });
  const problems = consistencyProblems(limits, defaults);
  if (v.MAX_BATCH_PIXELS !== undefined && v.MAX_PIXELS !== undefined && v.MAX_BATCH_PIXELS < v.MAX_PIXELS) {
    problems.push('MAX_BATCH_PIXELS: must be at least MAX_PIXELS, so that the largest picture fits in a batch');
  }
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
    metricsToken: v.METRICS_TOKEN,
    metricsOnHealthPortOnly: v.METRICS_ON_HEALTH_PORT_ONLY,
    provider: v.EXECUTION_PROVIDER,
    intraOpThreads: v.INTRA_OP_THREADS,
    batching: Object.freeze({
      maxBatchSize: v.MAX_BATCH_SIZE,
      batchTimeoutMs: v.BATCH_TIMEOUT_MS,
      maxQueue: v.MAX_QUEUE,
      maxBatchPixels: v.MAX_BATCH_PIXELS,
    }),
    requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    limits,
    defaults,
    explicitGenerationSettings,
    warmupSteps: v.WARMUP_STEPS,
    memoryLimitMb: v.MEMORY_LIMIT_MB,
    listenWhenReady: v.LISTEN_WHEN_READY,
    hub: hubSettingsFromEnv(env),
  });
}

/**
 * Settings that would expose the service by mistake: /v1 reachable from other machines with no token
 * (ALLOW_UNAUTHENTICATED=1 when a gateway in front authenticates, as RunPod's does), or /metrics moved
 * to a health port that does not exist.
 */
function exposureProblems(v: z.infer<typeof envSchema>): string[] {
  const problems: string[] = [];
  if (!isLoopbackHost(v.HOST) && v.GPU_FUNCTION_TOKEN === undefined && !v.ALLOW_UNAUTHENTICATED) {
    problems.push(
      'HOST: is not a loopback address, and GPU_FUNCTION_TOKEN is not set, so anyone who reaches the port could ' +
        'generate; set GPU_FUNCTION_TOKEN, or ALLOW_UNAUTHENTICATED=1 when something in front authenticates',
    );
  }
  if (v.METRICS_ON_HEALTH_PORT_ONLY && (v.PORT_HEALTH === undefined || (v.PORT_HEALTH === v.PORT && v.PORT !== 0))) {
    problems.push('METRICS_ON_HEALTH_PORT_ONLY: needs PORT_HEALTH, a port other than PORT');
  }
  return problems;
}

/** Addresses only this machine can reach: 127.0.0.0/8, ::1 (also IPv4-mapped), localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
