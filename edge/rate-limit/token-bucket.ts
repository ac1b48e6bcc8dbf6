// Token-bucket arithmetic, pure: no clock, no storage. A bucket holds up to `capacity` tokens and
// regains `capacity` of them per `windowSeconds`, continuously; each generation takes one token. So a
// client may burst `capacity` generations, then sustain capacity/window. A Durable Object per client
// holds the state on Workers (edge/cloudflare/durable-objects.ts), an in-process map on Node
// (edge/node/memory-rate-limiter.ts); both decide with takeDecision.

export interface TokenBucketPolicy {
  readonly capacity: number;
  readonly windowSeconds: number;
}

export interface TokenBucketState {
  readonly tokens: number;
  readonly updatedAtMs: number;
}

export interface TakeResult {
  readonly allowed: boolean;
  readonly state: TokenBucketState;
  /** Whole tokens left after this take. */
  readonly remaining: number;
  /** Seconds until a denied client may try again (0 when allowed). */
  readonly retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number;
}

/** What a limiter answers for one generation: the verdict and what the RateLimit fields report. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly remaining: number;
  readonly resetSeconds: number;
  readonly retryAfterSeconds: number;
}

/** RATE_LIMIT_PER_MINUTE as a bucket: that many in a burst, refilled over one minute. */
export function perMinutePolicy(limitPerMinute: number): TokenBucketPolicy {
  return { capacity: limitPerMinute, windowSeconds: 60 };
}

export function takeToken(previous: TokenBucketState | undefined, policy: TokenBucketPolicy, nowMs: number): TakeResult {
  const perMs = policy.capacity / (policy.windowSeconds * 1000);
  const elapsedMs = previous === undefined ? 0 : Math.max(0, nowMs - previous.updatedAtMs);
  const available = Math.min(policy.capacity, (previous?.tokens ?? policy.capacity) + elapsedMs * perMs);
  const allowed = available >= 1;
  const tokens = allowed ? available - 1 : available;
  return {
    allowed,
    state: { tokens, updatedAtMs: nowMs },
    remaining: Math.floor(tokens),
    retryAfterSeconds: allowed ? 0 : Math.ceil((1 - tokens) / perMs / 1000),
    resetSeconds: Math.ceil((policy.capacity - tokens) / perMs / 1000),
  };
}

/** takeToken, with its result as the decision a limiter answers and the state it must keep. */
export function takeDecision(
  previous: TokenBucketState | undefined,
  policy: TokenBucketPolicy,
  nowMs: number,
): { readonly state: TokenBucketState; readonly decision: RateLimitDecision } {
  const result = takeToken(previous, policy, nowMs);
  return {
    state: result.state,
    decision: {
      allowed: result.allowed,
      limit: policy.capacity,
      windowSeconds: policy.windowSeconds,
      remaining: result.remaining,
      resetSeconds: result.resetSeconds,
      retryAfterSeconds: result.retryAfterSeconds,
    },
  };
}
