// RateLimiter in process memory for the Node edge, in place of one Durable Object per client: a map
// of token buckets run by the same takeToken arithmetic. JavaScript runs one call at a time, so a
// read-compute-write needs no lock. Per process: with several instances each keeps its own buckets
// (see docs/storage.md for scaling). A bucket that has refilled completely is the same as no bucket,
// so once the map grows past `maxClients` such buckets are dropped, keeping memory bounded by the
// clients active within one window.
import type { RateLimiter } from '../rate-limit/charge-generation';
import {
  type RateLimitDecision,
  type TokenBucketPolicy,
  type TokenBucketState,
  takeDecision,
} from '../rate-limit/token-bucket';

export interface MemoryRateLimiterOptions {
  /** Number of tracked clients above which full buckets are swept. @default 10000 */
  readonly maxClients?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, TokenBucketState>();
  readonly #maxClients: number;
  readonly #now: () => number;
  /** Size at which the next sweep runs; doubles when a sweep frees little, so sweeps stay amortised O(1). */
  #sweepAt: number;

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.#maxClients = options.maxClients ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#sweepAt = this.#maxClients;
  }

  async consume(clientId: string, policy: TokenBucketPolicy): Promise<RateLimitDecision> {
    const nowMs = this.#now();
    const { state, decision } = takeDecision(this.#buckets.get(clientId), policy, nowMs);
    this.#buckets.set(clientId, state);
    if (this.#buckets.size > this.#sweepAt) this.#sweep(policy, nowMs);
    return decision;
  }

  /** Clients currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(policy: TokenBucketPolicy, nowMs: number): void {
    const perMs = policy.capacity / (policy.windowSeconds * 1000);
    for (const [clientId, state] of this.#buckets) {
      const refilled = state.tokens + Math.max(0, nowMs - state.updatedAtMs) * perMs;
      if (refilled >= policy.capacity) this.#buckets.delete(clientId);
    }
    this.#sweepAt = Math.max(this.#maxClients, this.#buckets.size * 2);
  }
}
