// Charging a generation to its client (client-identity.ts says who). Only misses come here, so cache
// hits are never limited.
// How much: a generation costs tokens in proportion to its work — width × height × steps, the UNet
// evaluations that dominate its GPU time — relative to its model's default request, which costs 1:
//   cost = max(1, (width × height × steps) / (default width × default height × default steps)),
// rounded up to hundredths. A smaller request still costs 1, so a bucket of N tokens is at most N
// generations; a 1024×1024, 100-step request on a 512×512, 50-step default costs 8. Guidance is left
// out: a request without classifier-free guidance does half the UNet work and is charged as one with.
// How many at once: each admitted generation holds one of MAX_IN_FLIGHT_PER_CLIENT slots until the
// edge has answered it (admission.ts). Over either limit: 429 with Retry-After; the rate limit also
// sends the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10, §4 and §5) as structured
// fields (RFC 9651): RateLimit-Policy names the policy with its quota `q` per window `w` seconds;
// RateLimit gives the tokens left `r` and the seconds `t` until the quota is whole again.
import type { Context } from 'hono';
import type { ModelDefaults, ResolvedGeneration } from '../../contract';
import type { AppDeps } from '../app';
import { log } from '../log';
import { rateLimited, tooManyInFlight } from '../problems';
import type { AdmissionDecision, AdmissionRequest } from './admission';
import { identifyClient } from './client-identity';
import { perMinutePolicy, type RateLimitDecision } from './token-bucket';

/** Per-client budgets: a Durable Object per client on Workers, an in-process map on Node. */
export interface RateLimiter {
  /** Admits one generation (taking its tokens and a lease) or says why not. */
  admit(clientId: string, request: AdmissionRequest): Promise<AdmissionDecision>;
  /** Ends a lease taken by admit. */
  release(clientId: string, leaseId: string): Promise<void>;
}

/** An admitted generation: the RateLimit fields for its answer, and the slot to give back. */
export interface Charge {
  readonly headers: Record<string, string>;
  /** Never rejects: a failed release is logged, and the lease ends by itself. */
  release(): Promise<void>;
}

/** A lease outlives the GPU budget by this much: storing the picture comes after it. */
const LEASE_MARGIN_MS = 30_000;

/** Seconds a client refused for its in-flight count is told to wait: about one small generation. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 5;

export function generationCost(request: Pick<ResolvedGeneration, 'width' | 'height' | 'steps'>, defaults: ModelDefaults): number {
  const work = request.width * request.height * request.steps;
  const reference = defaults.width * defaults.height * defaults.steps;
  return Math.max(1, Math.ceil((work / reference) * 100 - 1e-9) / 100);
}

/** Admits the generation for its client, or throws 401 (unknown key) or 429. */
export async function chargeGeneration(
  deps: AppDeps,
  c: Context,
  key: string,
  request: Pick<ResolvedGeneration, 'width' | 'height' | 'steps'>,
  defaults: ModelDefaults,
): Promise<Charge> {
  const { apiKeys, rateLimitPerMinute, maxInFlightPerClient, gpu } = deps.config;
  const clientId = await identifyClient(c.req.raw.headers, apiKeys, deps.clientAddress?.(c));
  if (rateLimitPerMinute === 0 && maxInFlightPerClient === 0) return { headers: {}, release: async () => undefined };
  const admission: AdmissionRequest = {
    policy: {
      bucket: rateLimitPerMinute === 0 ? undefined : perMinutePolicy(rateLimitPerMinute),
      maxInFlight: maxInFlightPerClient,
    },
    cost: generationCost(request, defaults),
    leaseId: key,
    leaseMs: gpu.timeoutMs + LEASE_MARGIN_MS,
  };
  const decision = await deps.rateLimiter.admit(clientId, admission);
  if (!decision.allowed) {
    if (decision.reason === 'in-flight') throw tooManyInFlight(decision.inFlight, IN_FLIGHT_RETRY_AFTER_SECONDS);
    throw rateLimited(decision.rate, rateLimitHeaders(decision.rate));
  }
  return {
    headers: decision.rate === undefined ? {} : rateLimitHeaders(decision.rate),
    release: () =>
      deps.rateLimiter.release(clientId, admission.leaseId).catch((error: unknown) => {
        log('warn', 'lease_release_failed', { error: String(error) });
      }),
  };
}

const POLICY_NAME = '"generations"';

export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    'RateLimit-Policy': `${POLICY_NAME};q=${decision.limit};w=${decision.windowSeconds}`,
    RateLimit: `${POLICY_NAME};r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}
