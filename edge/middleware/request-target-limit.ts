// 414 URI Too Long (RFC 9110 §15.5.15) for a request target over the limit, before anything parses
// it. 16 KiB is also Cloudflare's own URL limit, so the Worker behaves the same in front of and
// behind it; a 1000-character prompt fits even fully percent-encoded CJK (≈ 9 KB).
import type { MiddlewareHandler } from 'hono';
import { uriTooLong } from '../errors/problems';

export const MAX_REQUEST_TARGET_BYTES = 16 * 1024;

export function requestTargetLimit(maxBytes: number = MAX_REQUEST_TARGET_BYTES): MiddlewareHandler {
  return async function requestTargetLimit(c, next) {
    const url = c.req.url;
    // The URL is ASCII once parsed (non-ASCII is percent-encoded), so length is bytes.
    const target = url.slice(url.indexOf('/', url.indexOf('//') + 2));
    if (target.length > maxBytes) throw uriTooLong(maxBytes);
    await next();
  };
}
