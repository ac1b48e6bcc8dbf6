// Charging a generation to its client. Only misses come here, so cache hits are never limited.
// Who: with API_KEYS configured, a request presenting a key (`Authorization: Bearer <key>` or
// `X-API-Key: <key>`) is charged to that key, and an unknown key is refused (401) rather than silently
// charged to the address. Otherwise the client is its address: CF-Connecting-IP on Cloudflare
// (wrangler dev sets it too), the socket peer on Node. Keys are kept only as sha256 digests, so
// neither logs nor Durable Object names contain them.
// How much: one token of the client's bucket (token-bucket.ts); none left is a 429 with Retry-After
// and the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10, §4 and §5), as structured
// fields (RFC 9651): RateLimit-Policy names the policy with its quota `q` per window `w` seconds;
// RateLimit gives what is left `r` and the seconds `t` until the quota is whole again.
import type { Context } from 'hono';
import type { AppDeps } from '../app';
import { rateLimited, unknownApiKey } from '../problems';
import { sha256Hex } from '../request/content-key';
import { perMinutePolicy, type RateLimitDecision, type TokenBucketPolicy } from './token-bucket';

/** Per-client buckets: a Durable Object per client on Workers, an in-process map on Node. */
export interface RateLimiter {
  /** Takes one token from the client's bucket. */
  consume(clientId: string, policy: TokenBucketPolicy): Promise<RateLimitDecision>;
}

/** Returns the RateLimit fields for the picture answer; throws 401 or 429. */
export async function chargeGeneration(deps: AppDeps, c: Context): Promise<Record<string, string>> {
  const { apiKeys, rateLimitPerMinute } = deps.config;
  const clientId = await identifyClient(c.req.raw.headers, apiKeys, deps.clientAddress?.(c));
  if (rateLimitPerMinute === 0) return {};
  const decision = await deps.rateLimiter.consume(clientId, perMinutePolicy(rateLimitPerMinute));
  const headers = rateLimitHeaders(decision);
  if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds, headers);
  return headers;
}

export interface ClientHeaders {
  get(name: string): string | null | undefined;
}

export async function identifyClient(
  headers: ClientHeaders,
  apiKeys: readonly string[],
  peerAddress: string | undefined,
): Promise<string> {
  const presented = presentedKey(headers);
  if (apiKeys.length > 0 && presented !== undefined) {
    // Compare digests, not the keys, so the comparison time says nothing about a key's prefix.
    const digest = await sha256Hex(presented);
    const known = await Promise.all(apiKeys.map((key) => sha256Hex(key)));
    if (!known.includes(digest)) throw unknownApiKey();
    return `key:${digest}`;
  }
  const address = headers.get('CF-Connecting-IP') ?? peerAddress;
  return `ip:${address ?? 'unknown'}`;
}

function presentedKey(headers: ClientHeaders): string | undefined {
  const authorization = headers.get('Authorization');
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  return bearer ?? headers.get('X-API-Key')?.trim() ?? undefined;
}

const POLICY_NAME = '"generations"';

export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    'RateLimit-Policy': `${POLICY_NAME};q=${decision.limit};w=${decision.windowSeconds}`,
    RateLimit: `${POLICY_NAME};r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}
