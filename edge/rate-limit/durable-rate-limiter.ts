// RateLimiter on Durable Objects: one RateLimitBucket object per client id, so each bucket has a
// single writer worldwide. The object persists its state, so an eviction does not refill the bucket.
import { DurableObject } from 'cloudflare:workers';
import type { RateLimitDecision, RateLimiter } from './rate-limiter';
import { type TokenBucketPolicy, type TokenBucketState, takeToken } from './token-bucket';

const STATE_KEY = 'bucket';

export class RateLimitBucket extends DurableObject {
  consume(policy: TokenBucketPolicy): RateLimitDecision {
    // The synchronous KV API of SQLite-backed objects: read, compute and write with no await in
    // between, so concurrent calls cannot interleave.
    const previous = this.ctx.storage.kv.get<TokenBucketState>(STATE_KEY);
    const result = takeToken(previous, policy, Date.now());
    this.ctx.storage.kv.put(STATE_KEY, result.state);
    return {
      allowed: result.allowed,
      limit: policy.capacity,
      windowSeconds: policy.windowSeconds,
      remaining: result.remaining,
      resetSeconds: result.resetSeconds,
      retryAfterSeconds: result.retryAfterSeconds,
    };
  }
}

export class DurableRateLimiter implements RateLimiter {
  readonly #namespace: DurableObjectNamespace<RateLimitBucket>;

  constructor(namespace: DurableObjectNamespace<RateLimitBucket>) {
    this.#namespace = namespace;
  }

  async consume(clientId: string, policy: TokenBucketPolicy): Promise<RateLimitDecision> {
    return this.#namespace.getByName(clientId).consume(policy);
  }
}
