// The Node edge's configuration, parsed once from the environment: the Worker's settings (same
// names, same parser: edge/config/config.ts), the S3 store (s3-env.ts), and what only a Node process
// needs — where to listen, the LRU budget, whom to trust for client addresses, how long to drain on
// shutdown. Errors name the setting, never its value (some are secrets).
import { z } from 'zod';
import { issueLines, unsetIfBlank } from '../../contract';
import { ConfigError, count, type EdgeConfig, parseConfig } from '../config/config';
import type { S3Settings } from '../storage/s3-client';
import { s3EnvSchema } from './s3-env';

/** RFC 9110 §5.1 field-name (a token). */
const headerName = z.preprocess(
  unsetIfBlank,
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a header name').optional(),
);

const nodeSchema = z.object({
  HOST: z.preprocess(unsetIfBlank, z.string().default('127.0.0.1')),
  PORT: count(8787, 65_535),
  IMAGE_CACHE_MAX_BYTES: count(256 * 1024 * 1024, Number.MAX_SAFE_INTEGER),
  CLIENT_IP_HEADER: headerName,
  SHUTDOWN_TIMEOUT_MS: count(30_000, 3_600_000),
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
  });
}
