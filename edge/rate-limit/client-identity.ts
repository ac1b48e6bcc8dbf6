// Who a generation is charged to. With API_KEYS configured, a request presenting a key
// (`Authorization: Bearer <key>` or `X-API-Key: <key>`) is charged to that key, and an unknown key is
// refused (401) rather than silently charged to the address. Otherwise the client is its address:
// CF-Connecting-IP on Cloudflare (wrangler dev sets it too), the socket peer on Node. Keys are kept
// only as sha256 digests, so neither logs nor Durable Object names contain them.
//
// An IPv6 client is its /64, not its address: one host is routinely given a whole /64 (RFC 6177,
// SLAAC privacy addresses, RFC 8981), so per-address buckets would give it 2^64 of them. An IPv4
// address in IPv6 clothing (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is the IPv4 client it is.
import { unknownApiKey } from '../problems';
import { sha256Hex } from '../request/content-key';

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
  return addressClientId(headers.get('CF-Connecting-IP') ?? peerAddress);
}

function presentedKey(headers: ClientHeaders): string | undefined {
  const authorization = headers.get('Authorization');
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  return bearer ?? headers.get('X-API-Key')?.trim() ?? undefined;
}

/** `ip:<IPv4>`, `ip6:<first 64 bits>::/64`, or `ip:<as given>` for anything that is neither. */
export function addressClientId(address: string | undefined): string {
  const text = (address ?? 'unknown').trim();
  const groups = text.includes(':') ? ipv6Groups(text) : undefined;
  if (groups === undefined) return `ip:${text}`;
  const isMappedIpv4 = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMappedIpv4) {
    const [high = 0, low = 0] = groups.slice(6);
    return `ip:${[high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')}`;
  }
  return `ip6:${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/**
 * The eight 16-bit groups of an IPv6 address in any RFC 4291 §2.2 form (`::` shorthand, an IPv4 tail),
 * with brackets and a zone (`%eth0`) allowed around it; undefined when it is not one.
 */
export function ipv6Groups(text: string): number[] | undefined {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && piece.includes('.')) {
        const octets = piece.split('.');
        if (octets.length !== 4 || !octets.every((o) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(o))) return undefined;
        const [a, b, c, d] = octets.map(Number) as [number, number, number, number];
        groups.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        groups.push(Number.parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = parse(halves[0] ?? '');
  const tail = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
}
