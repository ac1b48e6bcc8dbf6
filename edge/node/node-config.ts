// The Node edge's configuration, parsed once from the environment: the Worker's settings (same
// names, same parser: edge/config.ts), the S3 store (the S3_* variables of docs/storage.md, shared
// with `npm run infra:bucket` so both read a store the same way), and what only a Node process needs
// — where to listen, the LRU budget, whom to trust for client addresses, how long to drain on
// shutdown, how long a client may stall and how many connections it serves at once. Errors name the
// setting, never its value (some are secrets). Without MODELS, the profile is the GPU function's own
// (GET /v1/model, as `npm start` does): withModelsFromGpuFunction.
import { z } from 'zod';
import { issueLines, unsetIfBlank } from '../../contract';
import { ConfigError, count, type EdgeConfig, parseConfig, varsSchema } from '../config';
import { profileFromModelInfo, waitForModelInfo } from '../generation/gpu-model-profile';
import type { S3Settings } from './s3/s3-image-store';

const optionalText = z.preprocess(unsetIfBlank, z.string().optional());

/** true/false, 1/0, yes/no in any letter case; unset or empty = false. */
export const flag = z.preprocess(
  (value) => (typeof value === 'string' ? unsetIfBlank(value.trim().toLowerCase()) : value),
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
);

export const s3EnvSchema = z
  .object({
    S3_ENDPOINT: z.preprocess(unsetIfBlank, z.url({ protocol: /^https?$/ }).optional()),
    S3_REGION: z.preprocess(
      unsetIfBlank,
      z.string().regex(/^[a-z0-9-]+$/, 'must be a region name such as us-east-1 or auto').default('us-east-1'),
    ),
    // AWS bucket naming rules (3–63 of a-z 0-9 . -); every S3-compatible store accepts these.
    S3_BUCKET: z.preprocess(
      unsetIfBlank,
      z.string({ message: 'is required' }).regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a bucket name: 3–63 of a-z, 0-9, ".", "-"'),
    ),
    S3_ACCESS_KEY_ID: optionalText,
    S3_SECRET_ACCESS_KEY: optionalText,
    S3_FORCE_PATH_STYLE: flag,
  })
  .refine((v) => (v.S3_ACCESS_KEY_ID === undefined) === (v.S3_SECRET_ACCESS_KEY === undefined), {
    path: ['S3_SECRET_ACCESS_KEY'],
    message: 'set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (the AWS default credential chain)',
  })
  .transform(
    (v): S3Settings =>
      Object.freeze({
        endpoint: v.S3_ENDPOINT,
        region: v.S3_REGION,
        bucket: v.S3_BUCKET,
        credentials:
          v.S3_ACCESS_KEY_ID === undefined || v.S3_SECRET_ACCESS_KEY === undefined
            ? undefined
            : Object.freeze({ accessKeyId: v.S3_ACCESS_KEY_ID, secretAccessKey: v.S3_SECRET_ACCESS_KEY }),
        forcePathStyle: v.S3_FORCE_PATH_STYLE,
      }),
  );

/** RFC 9110 §5.1 field-name (a token). */
const headerName = z.preprocess(
  unsetIfBlank,
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a header name').optional(),
);

/** Without MODELS: how long to wait for the GPU function's model (a first start may download gigabytes). */
const modelWaitMs = count(15 * 60_000, 24 * 3_600_000);

const modelSourceSchema = z.object({
  MODELS: z.preprocess(unsetIfBlank, z.unknown()),
  GPU_FUNCTION_URL: varsSchema.shape.GPU_FUNCTION_URL,
  GPU_FUNCTION_TOKEN: varsSchema.shape.GPU_FUNCTION_TOKEN,
  MODEL_WAIT_MS: modelWaitMs,
});

/**
 * The environment with MODELS filled from the GPU function when it is unset: one profile, exactly the
 * model GPU_FUNCTION_URL serves (`<id>@<revision>`, its defaults and limits), read once at start. A
 * GPU function still starting is waited for (MODEL_WAIT_MS); one that answers 401 or is no GPU
 * function fails (GpuModelInfoError). With MODELS set, or no usable GPU_FUNCTION_URL, the environment
 * is returned as it is and parseNodeConfig says what is missing.
 */
export async function withModelsFromGpuFunction(
  env: Readonly<Record<string, string | undefined>>,
  onWait?: (reason: string, waitMs: number) => void,
): Promise<Readonly<Record<string, string | undefined>>> {
  const source = modelSourceSchema.safeParse(env);
  if (!source.success) return env;
  const { MODELS, GPU_FUNCTION_URL: url, GPU_FUNCTION_TOKEN: token, MODEL_WAIT_MS: timeoutMs } = source.data;
  if (MODELS !== undefined || url === undefined) return env;
  const info = await waitForModelInfo(url, token, { timeoutMs, ...(onWait === undefined ? {} : { onWait }) });
  return { ...env, MODELS: JSON.stringify([profileFromModelInfo(info)]) };
}

const nodeSchema = z.object({
  HOST: z.preprocess(unsetIfBlank, z.string().default('127.0.0.1')),
  PORT: count(8787, 65_535),
  IMAGE_CACHE_MAX_BYTES: count(256 * 1024 * 1024, Number.MAX_SAFE_INTEGER),
  CLIENT_IP_HEADER: headerName,
  SHUTDOWN_TIMEOUT_MS: count(30_000, 3_600_000),
  CLIENT_TIMEOUT_MS: count(30_000, 3_600_000),
  MAX_CONNECTIONS: count(1024, 1_000_000),
  MODEL_WAIT_MS: modelWaitMs,
});

export interface NodeEdgeConfig {
  readonly edge: EdgeConfig;
  readonly listen: { readonly host: string; readonly port: number };
  readonly s3: S3Settings;
  /** Budget of the in-memory LRU in front of S3; 0 = no LRU. */
  readonly imageCacheMaxBytes: number;
  /** A header set by the proxy in front that carries the client's address; undefined = the socket peer. */
  readonly clientIpHeader: string | undefined;
  /** How long a SIGTERM waits for requests and generations in flight. */
  readonly shutdownTimeoutMs: number;
  /**
   * How long a client may take to send its request head, and may pause while reading an answer, before
   * its connection is closed; 0 = never (Node's own defaults then apply to the request head).
   */
  readonly clientTimeoutMs: number;
  /** Open connections at most; more are closed as they arrive. 0 = no cap. */
  readonly maxConnections: number;
}

export function parseNodeConfig(env: Readonly<Record<string, string | undefined>>): NodeEdgeConfig {
  const problems: string[] = [];
  let edge: EdgeConfig | undefined;
  try {
    edge = parseConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const lines = error.message.split('\n');
    problems.push(...(lines.length > 1 ? lines.slice(1) : lines).map((l) => l.trim()));
  }
  const s3 = s3EnvSchema.safeParse(env);
  if (!s3.success) problems.push(...issueLines(s3.error));
  const node = nodeSchema.safeParse(env);
  if (!node.success) problems.push(...issueLines(node.error));
  if (edge === undefined || !s3.success || !node.success) {
    throw new ConfigError(`invalid edge configuration:\n  ${problems.join('\n  ')}`);
  }
  const v = node.data;
  return Object.freeze({
    edge,
    listen: Object.freeze({ host: v.HOST, port: v.PORT }),
    s3: s3.data,
    imageCacheMaxBytes: v.IMAGE_CACHE_MAX_BYTES,
    clientIpHeader: v.CLIENT_IP_HEADER,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    clientTimeoutMs: v.CLIENT_TIMEOUT_MS,
    maxConnections: v.MAX_CONNECTIONS,
  });
}
