// RateLimiter in process memory for the Node edge, in place of one Durable Object per client: a map
// of client states decided by the same admission arithmetic (edge/rate-limit/admission.ts: tokens by
// cost, generations in flight). JavaScript runs one call at a time, so a read-compute-write needs no
// lock. Per process: with several instances each keeps its own (see docs/storage.md for scaling).
// A state that is the same as none (bucket full, nothing in flight) is dropped when a release leaves
// it so, and the rest are swept once the map grows past `maxClients`, keeping memory bounded by the
// clients active within one window — as the Durable Object deletes itself by alarm.
import {
  type AdmissionDecision,
  type AdmissionRequest,
  admit,
  type ClientState,
  forgettableAtMs,
  release,
} from '../rate-limit/admission';
import type { RateLimiter } from '../rate-limit/charge-generation';

export interface MemoryRateLimiterOptions {
  /** Number of tracked clients above which forgettable states are swept. @default 10000 */
  readonly maxClients?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

export class MemoryRateLimiter implements RateLimiter {
  readonly #clients = new Map<string, ClientState>();
  readonly #maxClients: number;
  readonly #now: () => number;
  /** Size at which the next sweep runs; doubles when a sweep frees little, so sweeps stay amortised O(1). */
  #sweepAt: number;

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.#maxClients = options.maxClients ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#sweepAt = this.#maxClients;
  }

  async admit(clientId: string, request: AdmissionRequest): Promise<AdmissionDecision> {
    const nowMs = this.#now();
    const { state, decision } = admit(this.#clients.get(clientId), request, nowMs);
    if (decision.allowed) this.#clients.set(clientId, state);
    if (this.#clients.size > this.#sweepAt) this.#sweep(nowMs);
    return decision;
  }

  async release(clientId: string, leaseId: string): Promise<void> {
    const previous = this.#clients.get(clientId);
    if (previous === undefined) return;
    const nowMs = this.#now();
    const state = release(previous, leaseId, nowMs);
    if (forgettableAtMs(state, nowMs) <= nowMs) this.#clients.delete(clientId);
    else this.#clients.set(clientId, state);
  }

  /** Clients currently tracked. */
  get size(): number {
    return this.#clients.size;
  }

  #sweep(nowMs: number): void {
    for (const [clientId, state] of this.#clients) {
      if (forgettableAtMs(state, nowMs) <= nowMs) this.#clients.delete(clientId);
    }
    this.#sweepAt = Math.max(this.#maxClients, this.#clients.size * 2);
  }
}
