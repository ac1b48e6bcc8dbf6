// The content key and the derived seed (docs/edge-api.md, "The content key and the seed"), both hashes
// of the canonical JSON of the resolved request: its members in sorted key order with JSON.stringify's
// number and string forms (ECMA-262 Number::toString: shortest round-trip, so guidance 7.50 and 7.5
// are both "7.5"). It names the model by profile name, repo and pinned revision, and the pipeline
// version, so a new model commit or a pipeline change that moves pixels gives new keys instead of stale
// pictures. One key is one picture: it names the stored object, the ETag and the content URL.
import { MAX_SEED, PIPELINE_VERSION } from '../../contract';
import type { ImageRequest, UnseededImageRequest } from './image-query';

/** hex(sha256(canonical JSON of the resolved request)). */
export async function contentKey(request: ImageRequest): Promise<string> {
  return sha256Hex(canonicalRequestJson(request, request.seed));
}

/** `/v1/images/<key>.png`: where a stored picture can always be read by its key. */
export function contentPath(key: string): string {
  return `/v1/images/${key}.png`;
}

/**
 * The cache key of a picture (Cache API, Node LRU): a fixed origin (EdgeConfig.cacheOrigin) and its
 * content path. Never built from the request, so another Host or another spelling of the path
 * (`%38…` for `8…`) is the same entry, not a new one that evicts the others.
 */
export function cacheUrl(origin: string, key: string): string {
  return `${origin}${contentPath(key)}`;
}

/**
 * A URL without `seed` still means one picture: its seed is the first 4 bytes (big-endian) of sha256
 * over the canonical JSON without a seed member, so it changes whenever anything else that changes
 * pixels does.
 */
export async function derivedSeed(request: UnseededImageRequest): Promise<number> {
  const digest = await sha256(canonicalRequestJson(request, undefined));
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false);
}

/** A fresh seed for `seed=random`, uniform over the contract's seed range. */
export function randomSeed(): number {
  const [value = 0] = crypto.getRandomValues(new Uint32Array(1));
  return value % (MAX_SEED + 1);
}

export function canonicalRequestJson(request: UnseededImageRequest, seed: number | undefined): string {
  const members: Record<string, string | number> = {
    guidance: request.guidance,
    height: request.height,
    model: request.model.name,
    negative_prompt: request.negative_prompt,
    pipeline_version: PIPELINE_VERSION,
    prompt: request.prompt,
    repo: request.model.repo,
    revision: request.model.revision,
    scheduler: request.scheduler,
    steps: request.steps,
    width: request.width,
  };
  if (seed !== undefined) members.seed = seed;
  const sorted = Object.keys(members)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${JSON.stringify(members[name])}`);
  return `{${sorted.join(',')}}`;
}

const encoder = new TextEncoder();

/** SHA-256 through Web Crypto (in Workers and in Node ≥ 20 alike). */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

export async function sha256Hex(text: string): Promise<string> {
  let hex = '';
  for (const byte of await sha256(text)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
