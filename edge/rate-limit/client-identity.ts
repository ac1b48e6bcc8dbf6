// Who a generation is charged to. With API_KEYS configured, a request presenting a key
// (`Authorization: Bearer <key>` or `X-API-Key: <key>`) is charged to that key, and an unknown key is
// refused (401) rather than silently charged to the address. Otherwise the client is its address:
// CF-Connecting-IP on Cloudflare (wrangler dev sets it too), the socket peer on Node.
// Keys are kept only as sha256 digests, so neither logs nor Durable Object names contain them.
import { unknownApiKey } from '../errors/problems';
import { sha256Hex } from '../key/sha256';

export interface ClientHeaders {
  get(name: string): string | null | undefined;
}

export async function identifyClient(
  headers: ClientHeaders,
  apiKeys: readonly string[],
  peerAddress: string | undefined,
): Promise<string> {
  const presented = presentedKey(headers);
  if (apiKeys.length > 0 && presented !== undefined) {
    // Compare digests, not the keys, so the comparison time says nothing about a key's prefix.
    const digest = await sha256Hex(presented);
    const known = await Promise.all(apiKeys.map((key) => sha256Hex(key)));
    if (!known.includes(digest)) throw unknownApiKey();
    return `key:${digest}`;
  }
  const address = headers.get('CF-Connecting-IP') ?? peerAddress;
  return `ip:${address ?? 'unknown'}`;
}

function presentedKey(headers: ClientHeaders): string | undefined {
  const authorization = headers.get('Authorization');
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  return bearer ?? headers.get('X-API-Key')?.trim() ?? undefined;
}
