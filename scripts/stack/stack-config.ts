// `npm start`'s settings: the environment parsed once (zod) into a frozen object that start.ts passes
// down. Only what the local stack itself decides is here; each child checks its own settings in full
// (gpu-function/config.ts, edge/config.ts). Errors name the variable, never its value.
import { z } from 'zod';
import { MIN_URL_SIGNING_KEY_BYTES } from '../../edge/config';
import { formatModelSpec, parseModelSpec } from '../../gpu-function/model/model-spec';
import { STACK_ROOT } from './stack-root';

/** Passed to the GPU function as they are, when set. */
export const GPU_PASS_THROUGH = ['EXECUTION_PROVIDER', 'MAX_BATCH_SIZE', 'BATCH_TIMEOUT_MS', 'MAX_QUEUE'] as const;
/** Passed to the edge as Worker vars, when set. */
export const EDGE_VAR_PASS_THROUGH = [
  'RATE_LIMIT_PER_MINUTE',
  'MAX_IN_FLIGHT_PER_CLIENT',
  'GPU_TIMEOUT_MS',
  'GPU_MAX_RETRIES',
  'GPU_RETRY_MAX_WAIT_MS',
] as const;
/** Passed to the edge as Worker secrets (never printed), when set. */
export const EDGE_SECRET_PASS_THROUGH = ['URL_SIGNING_KEY', 'API_KEYS'] as const;

const HOST = '127.0.0.1';

const port = (fallback: number) =>
  z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number (0 picks a free one)')
    .transform(Number)
    .pipe(z.int().max(65_535, 'must be a port number (0 picks a free one)'))
    .optional()
    .transform((v) => v ?? fallback);

const digits = z.string().regex(/^\d+$/, 'must be a whole number').optional();

const stackEnvSchema = z.object({
  MODEL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        // Unset: the default Hub model. A relative folder is read from the repository root, where npm runs.
        return parseModelSpec(v ?? '', { cwd: STACK_ROOT });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    }),
  EDGE_PORT: port(8787),
  GPU_PORT: port(8788),
  EDGE_STATE_DIR: z.string().optional(),
  EXECUTION_PROVIDER: z.enum(['auto', 'cuda', 'cpu']).optional(),
  MAX_BATCH_SIZE: digits,
  BATCH_TIMEOUT_MS: digits,
  MAX_QUEUE: digits,
  RATE_LIMIT_PER_MINUTE: digits,
  MAX_IN_FLIGHT_PER_CLIENT: digits,
  GPU_TIMEOUT_MS: digits,
  GPU_MAX_RETRIES: digits,
  GPU_RETRY_MAX_WAIT_MS: digits,
  // The edge's own rule (edge/config.ts), checked here too, so npm start stops before serving 500s.
  URL_SIGNING_KEY: z
    .string()
    .refine(
      (key) => new TextEncoder().encode(key).length >= MIN_URL_SIGNING_KEY_BYTES,
      `must be at least ${MIN_URL_SIGNING_KEY_BYTES} bytes (e.g. openssl rand -base64 32)`,
    )
    .optional(),
  API_KEYS: z.string().optional(),
});

export interface StackConfig {
  /** `org/name@revision`, or the absolute path of a local folder. */
  readonly model: string;
  readonly modelIsLocal: boolean;
  readonly host: string;
  readonly edgePort: number;
  readonly gpuPort: number;
  /** wrangler's --persist-to; undefined: wrangler's own `.wrangler/state`. */
  readonly edgeStateDir: string | undefined;
  /** GPU function settings given in the environment (GPU_PASS_THROUGH). */
  readonly gpuSettings: Readonly<Record<string, string>>;
  readonly edgeVars: Readonly<Record<string, string>>;
  readonly edgeSecrets: Readonly<Record<string, string>>;
}

export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid settings:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

export function parseStackConfig(env: Readonly<Record<string, string | undefined>>): StackConfig {
  const names = Object.keys(stackEnvSchema.shape) as (keyof typeof stackEnvSchema.shape)[];
  // '' counts as unset, as everywhere else in the project.
  const raw = Object.fromEntries(names.map((name) => [name, env[name] === '' ? undefined : env[name]]));
  const parsed = stackEnvSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StackConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const v = parsed.data;
  const pick = (keys: readonly (keyof typeof v)[]): Record<string, string> =>
    Object.fromEntries(keys.flatMap((key) => (typeof v[key] === 'string' ? [[key, v[key]]] : [])));
  return Object.freeze({
    model: formatModelSpec(v.MODEL),
    modelIsLocal: v.MODEL.kind === 'local',
    host: HOST,
    edgePort: v.EDGE_PORT,
    gpuPort: v.GPU_PORT,
    edgeStateDir: v.EDGE_STATE_DIR,
    gpuSettings: Object.freeze(pick(GPU_PASS_THROUGH)),
    edgeVars: Object.freeze(pick(EDGE_VAR_PASS_THROUGH)),
    edgeSecrets: Object.freeze(pick(EDGE_SECRET_PASS_THROUGH)),
  });
}
