// Per-client limit on generations (cache hits are never counted). A Durable Object per client holds
// the bucket on Workers (durable-rate-limiter.ts); an in-process map on Node. Both run takeToken.
import type { TokenBucketPolicy } from './token-bucket';

export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly remaining: number;
  readonly resetSeconds: number;
  readonly retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Takes one token from the client's bucket. */
  consume(clientId: string, policy: TokenBucketPolicy): Promise<RateLimitDecision>;
}

/** RATE_LIMIT_PER_MINUTE as a bucket: that many in a burst, refilled over one minute. */
export function perMinutePolicy(limitPerMinute: number): TokenBucketPolicy {
  return { capacity: limitPerMinute, windowSeconds: 60 };
}
