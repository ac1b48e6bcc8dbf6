// `Authorization: Bearer <token>` (RFC 6750 §2.1): GPU_FUNCTION_TOKEN on /v1/*, METRICS_TOKEN on /metrics.
// Both tokens are hashed to 32 bytes before a constant-time compare, so neither the content nor the
// length of the expected token leaks through timing. The token is never logged, and the 401 never says
// what was sent.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { unauthorized } from './problems';

export interface BearerRealm {
  /** The variable that holds the token, named in the 401's detail. */
  readonly setting: string;
  /** The WWW-Authenticate realm. */
  readonly realm: string;
}

export function bearerAuth(
  token: string | undefined,
  { setting, realm }: BearerRealm = { setting: 'GPU_FUNCTION_TOKEN', realm: 'gpu-function' },
): MiddlewareHandler {
  if (token === undefined) {
    return async function noAuth(_c, next) {
      await next();
    };
  }
  const expected = digest(token);
  return async function bearerAuth(c, next) {
    // The scheme is case-insensitive (RFC 9110 §11.1); one or more spaces separate it from the token.
    const match = /^Bearer +(.+)$/i.exec(c.req.header('Authorization') ?? '');
    if (match === null) throw unauthorized(false, setting, realm);
    if (!timingSafeEqual(digest(match[1]!), expected)) throw unauthorized(true, setting, realm);
    await next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
