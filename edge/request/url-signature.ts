// Signed URLs. When URL_SIGNING_KEY is set, a request that would generate must carry
//   sig = base64url(HMAC-SHA256(URL_SIGNING_KEY, "/v1/images?" + canonical query))
// (HMAC: RFC 2104; base64url without padding: RFC 4648 §5), where the canonical query is every
// parameter except `sig`, percent-decoded, sorted by name, each re-encoded with encodeURIComponent
// as `name=value` and joined with "&". Any change to a parameter (added, removed, altered) breaks
// the signature; spelling differences of one value (`+` vs `%20`) do not. Web Crypto only, so the
// same code signs in Workers, in Node (scripts/sign.ts) and in a site's own backend.
const encoder = new TextEncoder();
const SIGNED_PATH = '/v1/images';

export type SignedParams = Iterable<readonly [string, string]> | Readonly<Record<string, string | number>>;

/** The exact text that is signed, for implementing the signature in another language. */
export function signingInput(params: SignedParams): string {
  const entries = toEntries(params)
    .filter(([name]) => name !== 'sig')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${SIGNED_PATH}?${entries.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&')}`;
}

export async function signParams(signingKey: string, params: SignedParams): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(signingKey), encoder.encode(signingInput(params)));
  return toBase64Url(new Uint8Array(mac));
}

/** Constant-time check (Web Crypto's HMAC verify) of a `sig` against the parameters. */
export async function verifySignature(signingKey: string, params: SignedParams, sig: string): Promise<boolean> {
  const mac = fromBase64Url(sig);
  if (mac === undefined) return false;
  return crypto.subtle.verify('HMAC', await hmacKey(signingKey), mac, encoder.encode(signingInput(params)));
}

/**
 * A ready-to-use signed URL: `signedImageUrl('https://img.example.com', { prompt: 'a lighthouse' }, key)`
 * → `https://img.example.com/v1/images?prompt=a%20lighthouse&sig=…`.
 */
export async function signedImageUrl(origin: string, params: SignedParams, signingKey: string): Promise<string> {
  const entries = toEntries(params).filter(([name]) => name !== 'sig');
  const url = new URL(SIGNED_PATH, origin);
  const query = entries.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`);
  query.push(`sig=${await signParams(signingKey, entries)}`);
  url.search = query.join('&');
  return url.toString();
}

function toEntries(params: SignedParams): [string, string][] {
  const iterable = Symbol.iterator in params ? (params as Iterable<readonly [string, string]>) : Object.entries(params);
  return [...iterable].map(([name, value]) => [name, String(value)]);
}

function hmacKey(secret: string) {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/**
 * The MAC a `sig` spells, only in its one canonical spelling. 32 bytes are 43 characters whose last
 * carries 4 bits and 2 unused ones; RFC 4648 §3.5 lets decoders ignore those, which would make 4
 * spellings of every signature valid (4 URLs, 4 cache misses, for one signed picture). So the unused
 * bits must be zero: the text must be exactly what encoding its bytes gives.
 */
function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return undefined; // 32 bytes → 43 characters without padding
  const binary = atob(`${text.replaceAll('-', '+').replaceAll('_', '/')}=`);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return toBase64Url(bytes) === text ? bytes : undefined;
}
