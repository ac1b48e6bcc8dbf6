// Who the client is, for the rate limit, on Node. The shared code charges CF-Connecting-IP when a
// request carries it, which is right on Cloudflare (Cloudflare sets it and strips any sent by the
// client) but on a bare Node host would let every client pick its own bucket by sending the header.
// So the Node edge trusts one header only when CLIENT_IP_HEADER names it (the proxy in front sets
// it: CF-Connecting-IP behind Cloudflare, X-Real-IP behind nginx, X-Forwarded-For behind most load
// balancers), drops CF-Connecting-IP otherwise, and falls back to the socket peer.
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';

const CF_CONNECTING_IP = 'cf-connecting-ip';

/** The request as the app may see it: without a CF-Connecting-IP that nobody trusted vouches for. */
export function withoutUntrustedClientHeaders(request: Request, trustedHeader: string | undefined): Request {
  if (trustedHeader?.toLowerCase() === CF_CONNECTING_IP || !request.headers.has(CF_CONNECTING_IP)) return request;
  const headers = new Headers(request.headers);
  headers.delete(CF_CONNECTING_IP);
  return new Request(request, { headers });
}

/** AppDeps.clientAddress for Node: the trusted header's address, else the socket peer. */
export function clientAddressResolver(trustedHeader: string | undefined): (c: Context) => string | undefined {
  return function clientAddress(c: Context): string | undefined {
    if (trustedHeader !== undefined) {
      const value = c.req.header(trustedHeader);
      // X-Forwarded-For lists every hop; only the last one was added by the proxy we trust.
      const address = value?.split(',').at(-1)?.trim();
      if (address) return address;
    }
    return peerAddress(c);
  };
}

function peerAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const address = incoming?.socket.remoteAddress;
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2).
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
