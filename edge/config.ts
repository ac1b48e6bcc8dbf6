// The edge's configuration, parsed once from the Worker's env (or process.env on Node) into a frozen,
// typed object that is passed down. Names match docs/edge-configuration.md. Error messages name the
// setting but never echo its value (some are secrets).
// MODELS says which models the edge offers, the commit each must come from, and their defaults and
// limits (the contract's model profile). A profile's limits may only narrow the wire's absolute
// bounds, so the edge never forwards a request the GPU function would reject.
import { z } from 'zod';
import { issueLines, modelDefaultsSchema, modelLimitsSchema, profileProblems, unsetIfBlank } from '../contract';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const modelProfileSchema = z
  .strictObject({
    /** What `model=` selects in the API. */
    name: z.string().regex(NAME, 'lower-case letters, digits, ".", "_" and "-", at most 64'),
    /** Hub repo id, or the folder name of a local model (what the GPU function reports as id). */
    repo: z.string().min(1),
    /** The commit sha (or `local-<fingerprint>`) every picture of this profile must come from. */
    revision: z.string().min(1),
    default: z.literal(true).optional(),
    defaults: modelDefaultsSchema,
    limits: modelLimitsSchema,
    /** Another GPU function for this model; GPU_FUNCTION_URL when absent. */
    gpu_function_url: z.url({ protocol: /^https?$/ }).optional(),
  })
  .superRefine((profile, ctx) => {
    for (const { field, message } of profileProblems(profile)) {
      ctx.addIssue({ code: 'custom', path: field.split('.'), message });
    }
  });

export type ModelProfile = Readonly<z.infer<typeof modelProfileSchema>>;

/**
 * Said when MODELS is unset. wrangler.toml ships none, because a profile must pin the commit its
 * GPU function serves and that is only known once it runs: `npm run deploy` writes it.
 */
export const MODELS_UNSET =
  'is not set: `npm run deploy` pins the GPU function\'s model (commit, defaults, limits) in it, the Node edge ' +
  "reads it from GPU_FUNCTION_URL's GET /v1/model; or set it by hand (docs/edge-configuration.md)";

/** The MODELS value: a JSON array (a string from `--var` or an env variable, or a TOML array). */
export const modelProfilesSchema = z
  .preprocess(
    (value) => parseJsonString(unsetIfBlank(value)),
    z.array(modelProfileSchema, { error: (issue) => (issue.input === undefined ? MODELS_UNSET : undefined) }).min(1),
  )
  .superRefine((profiles, ctx) => {
    const names = new Set<string>();
    for (const p of profiles) {
      if (names.has(p.name)) ctx.addIssue({ code: 'custom', message: `duplicate model name "${p.name}"` });
      names.add(p.name);
    }
    const defaults = profiles.filter((p) => p.default === true).length;
    if (defaults > 1 || (defaults === 0 && profiles.length > 1)) {
      ctx.addIssue({ code: 'custom', message: 'exactly one profile must have "default": true (or give only one)' });
    }
  });

/** The profile `model=` falls back to: the one marked default, or the only one. */
export function defaultProfile(profiles: readonly ModelProfile[]): ModelProfile {
  const chosen = profiles.find((p) => p.default === true) ?? profiles[0];
  if (chosen === undefined) throw new Error('no model profiles');
  return chosen;
}

/** `<repo>@<revision>`: exactly what the GPU function must send as X-Model for this profile. */
export function expectedModelHeader(profile: ModelProfile): string {
  return `${profile.repo}@${profile.revision}`;
}

/** Numbers arrive as strings from env variables and `--var`, as numbers from wrangler.toml. */
export const count = (fallback: number, max: number) =>
  z.preprocess(unsetIfBlank, z.coerce.number().int().min(0).max(max).default(fallback));

/**
 * 25 s: under the 30 s after which common proxies and platform routers (Heroku's router, many
 * load balancers' defaults of 30–60 s) give up on an answer that has not started.
 */
export const DEFAULT_HOLD_MS = 25_000;

/**
 * A secret: absent means "off"; present but blank is a mistake (a template's empty value, a paste that
 * went wrong) and never "off", or an edge meant to be locked would quietly run open.
 */
const secret = z
  .string()
  .refine((value) => value.trim() !== '', 'is set but blank: give it a value, or remove it to turn it off')
  .optional();

/**
 * RFC 2104 §3: an HMAC key shorter than the hash's output (32 bytes for SHA-256) weakens it; `openssl rand
 * -base64 32` gives 44 characters.
 */
export const MIN_URL_SIGNING_KEY_BYTES = 32;

const urlSigningKey = secret.refine(
  (value) => value === undefined || value.trim() === '' || new TextEncoder().encode(value).length >= MIN_URL_SIGNING_KEY_BYTES,
  `must be at least ${MIN_URL_SIGNING_KEY_BYTES} bytes (e.g. openssl rand -base64 32)`,
);

export const varsSchema = z.object({
  GPU_FUNCTION_URL: z.preprocess(unsetIfBlank, z.url({ protocol: /^https?$/ }).optional()),
  GPU_FUNCTION_TOKEN: secret,
  GPU_TIMEOUT_MS: count(120_000, 3_600_000),
  GPU_MAX_RETRIES: count(2, 10),
  GPU_RETRY_MAX_WAIT_MS: count(10_000, 600_000),
  RATE_LIMIT_PER_MINUTE: count(10, 1_000_000),
  HOLD_MS: count(DEFAULT_HOLD_MS, 3_600_000),
  MAX_IN_FLIGHT_PER_CLIENT: count(4, 10_000),
  PUBLIC_ORIGIN: z.preprocess(
    unsetIfBlank,
    z
      .url({ protocol: /^https?$/ })
      .refine((url) => new URL(url).origin === url.replace(/\/$/, ''), 'must be an origin only, like https://img.example.com')
      .transform((url) => new URL(url).origin)
      .optional(),
  ),
  URL_SIGNING_KEY: urlSigningKey,
  API_KEYS: secret,
  MODELS: modelProfilesSchema,
});

export interface GpuSettings {
  /** Base URL of the GPU function; a profile's gpu_function_url wins. */
  readonly url: string | undefined;
  readonly token: string | undefined;
  /** Budget for one generation, all attempts and waits included. */
  readonly timeoutMs: number;
  /** Extra attempts after a 503 answer. */
  readonly maxRetries: number;
  /** A Retry-After longer than this is passed to the client instead of waited for. */
  readonly retryMaxWaitMs: number;
}

export interface EdgeConfig {
  readonly gpu: GpuSettings;
  readonly models: readonly ModelProfile[];
  readonly defaultModel: ModelProfile;
  /** Tokens per client per minute (a default-sized generation costs one); 0 = no limit. */
  readonly rateLimitPerMinute: number;
  /**
   * How long a GET waits for a generation before answering a redirect to itself (the generation goes
   * on; the redirected request waits again); 0 = wait for the whole generation.
   */
  readonly holdMs: number;
  /** Generations one client may have running at once; 0 = no cap. */
  readonly maxInFlightPerClient: number;
  /** The origin of every cache key (PUBLIC_ORIGIN, else CACHE_ORIGIN): never the request's own. */
  readonly cacheOrigin: string;
  /** When set, a request that would generate must carry a valid `sig`. */
  readonly urlSigningKey: string | undefined;
  /** Known API keys; empty = keys are not used and clients are told apart by address. */
  readonly apiKeys: readonly string[];
}

/**
 * The cache keys' origin when PUBLIC_ORIGIN is unset. Fixed, so neither a Host header nor a request's
 * spelling can make one picture many cache entries (docs/edge-configuration.md, PUBLIC_ORIGIN).
 */
export const CACHE_ORIGIN = 'https://dreamurl.internal';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseConfig(vars: Readonly<Record<string, unknown>>): EdgeConfig {
  const parsed = varsSchema.safeParse(vars);
  if (!parsed.success) {
    throw new ConfigError(`invalid edge configuration:\n  ${issueLines(parsed.error).join('\n  ')}`);
  }
  const v = parsed.data;
  const unrouted = v.MODELS.filter((p) => p.gpu_function_url === undefined).map((p) => p.name);
  if (v.GPU_FUNCTION_URL === undefined && unrouted.length > 0) {
    throw new ConfigError(`GPU_FUNCTION_URL is required for models without gpu_function_url: ${unrouted.join(', ')}`);
  }
  const models = Object.freeze(v.MODELS.map((p) => deepFreeze(p)));
  return deepFreeze({
    gpu: {
      url: v.GPU_FUNCTION_URL,
      token: v.GPU_FUNCTION_TOKEN,
      timeoutMs: v.GPU_TIMEOUT_MS,
      maxRetries: v.GPU_MAX_RETRIES,
      retryMaxWaitMs: v.GPU_RETRY_MAX_WAIT_MS,
    },
    models,
    defaultModel: defaultProfile(models),
    rateLimitPerMinute: v.RATE_LIMIT_PER_MINUTE,
    holdMs: v.HOLD_MS,
    maxInFlightPerClient: v.MAX_IN_FLIGHT_PER_CLIENT,
    cacheOrigin: v.PUBLIC_ORIGIN ?? CACHE_ORIGIN,
    urlSigningKey: v.URL_SIGNING_KEY,
    apiKeys: Object.freeze(parseKeyList(v.API_KEYS)),
  });
}

/** API_KEYS: keys separated by commas, spaces or newlines. */
function parseKeyList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((k) => k.length > 0);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function parseJsonString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value; // the array schema then reports "expected array"
  }
}
