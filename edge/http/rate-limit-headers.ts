// The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10, §4 and §5), as structured
// fields (RFC 9651): RateLimit-Policy names the policy with its quota `q` per window `w` seconds;
// RateLimit gives what is left `r` and the seconds `t` until the quota is whole again.
import type { RateLimitDecision } from '../rate-limit/rate-limiter';

const POLICY_NAME = '"generations"';

export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    'RateLimit-Policy': `${POLICY_NAME};q=${decision.limit};w=${decision.windowSeconds}`,
    RateLimit: `${POLICY_NAME};r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}
