// Token-bucket arithmetic, pure: no clock, no storage. A bucket holds up to `capacity` tokens and
// regains `capacity` of them per `windowSeconds`, continuously; a generation takes its cost in tokens
// (generation-cost.ts: 1 for the model's default request). So a client may burst `capacity` default
// generations, then sustain capacity/window. A generation dearer than the whole bucket is let through
// only when the bucket is full, and leaves it in debt: tokens go below zero and the client waits until
// they have grown back, so the work a client gets per window stays proportional to the tokens it is
// given, however large one request is. admission.ts keeps the state with the client's in-flight
// generations: a Durable Object per client on Workers, an in-process map on Node.

export interface TokenBucketPolicy {
  readonly capacity: number;
  readonly windowSeconds: number;
}

export interface TokenBucketState {
  /** Below zero after a generation dearer than the whole bucket. */
  readonly tokens: number;
  readonly updatedAtMs: number;
}

/** What a limiter answers for one generation: the verdict and what the RateLimit fields report. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Tokens this generation costs (or would have cost). */
  readonly cost: number;
  readonly limit: number;
  readonly windowSeconds: number;
  /** Whole tokens left after this take. */
  readonly remaining: number;
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number;
  /** Seconds until a refused generation of this cost would be let through (0 when allowed). */
  readonly retryAfterSeconds: number;
}

/** RATE_LIMIT_PER_MINUTE as a bucket: that many tokens in a burst, refilled over one minute. */
export function perMinutePolicy(limitPerMinute: number): TokenBucketPolicy {
  return { capacity: limitPerMinute, windowSeconds: 60 };
}

function tokensPerMs(policy: TokenBucketPolicy): number {
  return policy.capacity / (policy.windowSeconds * 1000);
}

/** The tokens in the bucket at `nowMs`: what it held, plus what has grown back, at most `capacity`. */
export function tokensAt(previous: TokenBucketState | undefined, policy: TokenBucketPolicy, nowMs: number): number {
  if (previous === undefined) return policy.capacity;
  const elapsedMs = Math.max(0, nowMs - previous.updatedAtMs);
  return Math.min(policy.capacity, previous.tokens + elapsedMs * tokensPerMs(policy));
}

/** When the bucket is full again, which is when its state is the same as no state at all. */
export function fullAtMs(state: TokenBucketState, policy: TokenBucketPolicy): number {
  return state.updatedAtMs + Math.max(0, policy.capacity - state.tokens) / tokensPerMs(policy);
}

/** Takes `cost` tokens if the bucket holds them (or is full, for a cost above its capacity). */
export function takeTokens(
  previous: TokenBucketState | undefined,
  policy: TokenBucketPolicy,
  nowMs: number,
  cost = 1,
): { readonly state: TokenBucketState; readonly decision: RateLimitDecision } {
  const perMs = tokensPerMs(policy);
  const available = tokensAt(previous, policy, nowMs);
  const needed = Math.min(cost, policy.capacity);
  // Compared with a little slack: tokens grow back in floating point, and 0.9999999 of a token after
  // the promised wait must count as one.
  const allowed = available + 1e-9 >= needed;
  const tokens = allowed ? available - cost : available;
  return {
    state: { tokens, updatedAtMs: nowMs },
    decision: {
      allowed,
      cost,
      limit: policy.capacity,
      windowSeconds: policy.windowSeconds,
      remaining: Math.max(0, Math.floor(tokens + 1e-9)),
      resetSeconds: Math.ceil((policy.capacity - tokens) / perMs / 1000 - 1e-9),
      retryAfterSeconds: allowed ? 0 : Math.ceil((needed - tokens) / perMs / 1000 - 1e-9),
    },
  };
}
