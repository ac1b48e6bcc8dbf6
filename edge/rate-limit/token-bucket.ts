// Token-bucket arithmetic, pure: no clock, no storage. A bucket holds up to `capacity` tokens and
// regains `capacity` of them per `windowSeconds`, continuously; each generation takes one token.
// So a client may burst `capacity` generations, then sustain capacity/window.

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
