// Charges one generation to the client: identify it (401 for an unknown API key), then take a token
// (429 with Retry-After and RateLimit fields when none is left). Returns the RateLimit fields for
// the picture answer. Only misses come here, so cache hits are never limited.
import type { Context } from 'hono';
import type { AppDeps } from '../app-deps';
import { rateLimited } from '../errors/problems';
import { rateLimitHeaders } from '../http/rate-limit-headers';
import { identifyClient } from './client-identity';
import { perMinutePolicy } from './rate-limiter';

export async function chargeGeneration(deps: AppDeps, c: Context): Promise<Record<string, string>> {
  const { apiKeys, rateLimitPerMinute } = deps.config;
  const clientId = await identifyClient(c.req.raw.headers, apiKeys, deps.clientAddress?.(c));
  if (rateLimitPerMinute === 0) return {};
  const decision = await deps.rateLimiter.consume(clientId, perMinutePolicy(rateLimitPerMinute));
  const headers = rateLimitHeaders(decision);
  if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds, headers);
  return headers;
}
