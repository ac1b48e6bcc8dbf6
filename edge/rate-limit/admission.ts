// Whether one client may start one more generation, pure: its token bucket (token-bucket.ts) and its
// generations in flight, as one state per client, so both limiters decide alike — the Durable Object
// per client on Workers (edge/cloudflare/durable-objects.ts) and the in-process map on Node
// (edge/node/memory-rate-limiter.ts).
//
// In flight: every admitted generation holds a lease until it is released (answered, or failed), at
// most MAX_IN_FLIGHT_PER_CLIENT at once. Leases are named by content key, so a client's concurrent
// requests for one picture (coalesced into one GPU call) hold one slot, not several. A lease also ends
// by itself once `leaseMs` has passed, so a Worker cancelled before it could release (its client hung
// up) does not hold a slot for ever.
// A client's state that is the same as none (bucket full, no lease) can be forgotten: forgettableAtMs
// says when, so storage does not keep every address ever seen.
import {
  fullAtMs,
  type RateLimitDecision,
  type TokenBucketPolicy,
  type TokenBucketState,
  takeTokens,
} from './token-bucket';

export interface AdmissionPolicy {
  /** The token bucket; undefined: no rate limit (RATE_LIMIT_PER_MINUTE=0). */
  readonly bucket: TokenBucketPolicy | undefined;
  /** Generations in flight at most; 0: no cap (MAX_IN_FLIGHT_PER_CLIENT=0). */
  readonly maxInFlight: number;
}

/** One generation asking to start; plain data, as it crosses Durable Object RPC. */
export interface AdmissionRequest {
  readonly policy: AdmissionPolicy;
  /** Tokens it costs (charge-generation.ts, generationCost). */
  readonly cost: number;
  /** Names its lease, for release(): the content key, so one picture holds one slot. */
  readonly leaseId: string;
  /** The longest it may hold its lease: the GPU budget and then some. */
  readonly leaseMs: number;
}

export type AdmissionDecision =
  | { readonly allowed: true; readonly rate: RateLimitDecision | undefined }
  | { readonly allowed: false; readonly reason: 'rate-limited'; readonly rate: RateLimitDecision }
  | { readonly allowed: false; readonly reason: 'in-flight'; readonly inFlight: number };

export interface ClientState {
  readonly bucket: TokenBucketState | undefined;
  /** The bucket's policy when it was last charged: what "full again" means for this state. */
  readonly bucketPolicy: TokenBucketPolicy | undefined;
  /** Lease id → when it ends by itself (ms since the epoch). */
  readonly leases: Readonly<Record<string, number>>;
}

function liveLeases(state: ClientState | undefined, nowMs: number): Record<string, number> {
  return Object.fromEntries(Object.entries(state?.leases ?? {}).filter(([, endsAtMs]) => endsAtMs > nowMs));
}

/**
 * In-flight cap first, then the bucket: a refused generation costs nothing, and one refused for its
 * in-flight count does not touch the bucket.
 */
export function admit(
  previous: ClientState | undefined,
  request: AdmissionRequest,
  nowMs: number,
): { readonly state: ClientState; readonly decision: AdmissionDecision } {
  const { policy } = request;
  const leases = liveLeases(previous, nowMs);
  const inFlight = Object.keys(leases).length;
  const unchanged: ClientState = { bucket: previous?.bucket, bucketPolicy: previous?.bucketPolicy, leases };
  const joins = request.leaseId in leases; // the same picture again: it takes no second slot
  if (policy.maxInFlight > 0 && !joins && inFlight >= policy.maxInFlight) {
    return { state: unchanged, decision: { allowed: false, reason: 'in-flight', inFlight } };
  }
  let bucket = previous?.bucket;
  let rate: RateLimitDecision | undefined;
  if (policy.bucket !== undefined) {
    const taken = takeTokens(previous?.bucket, policy.bucket, nowMs, request.cost);
    rate = taken.decision;
    if (!rate.allowed) {
      return { state: unchanged, decision: { allowed: false, reason: 'rate-limited', rate } };
    }
    bucket = taken.state;
  }
  return {
    state: { bucket, bucketPolicy: policy.bucket, leases: { ...leases, [request.leaseId]: nowMs + request.leaseMs } },
    decision: { allowed: true, rate },
  };
}

/** Ends a lease (an unknown or ended one is fine: release may come twice, or after the lease ran out). */
export function release(previous: ClientState | undefined, leaseId: string, nowMs: number): ClientState {
  const { [leaseId]: _ended, ...leases } = liveLeases(previous, nowMs);
  return { bucket: previous?.bucket, bucketPolicy: previous?.bucketPolicy, leases };
}

/**
 * When the state becomes the same as no state: its bucket full again and its last lease ended.
 * At or before `nowMs`: forget it now.
 */
export function forgettableAtMs(state: ClientState, nowMs: number): number {
  const leaseEnds = Object.values(liveLeases(state, nowMs));
  const bucketFull = state.bucket === undefined || state.bucketPolicy === undefined ? 0 : fullAtMs(state.bucket, state.bucketPolicy);
  return Math.max(bucketFull, ...leaseEnds);
}
