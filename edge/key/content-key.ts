// The content key (docs/edge-api.md, "The content key and the seed"): hex(sha256(canonical JSON of the resolved request)).
// One key is one picture: it names the stored object, the ETag and the content URL.
import type { ImageRequest } from '../params/image-request';
import { canonicalRequestJson } from './canonical-request';
import { sha256Hex } from './sha256';

export const CONTENT_KEY_PATTERN = /^[0-9a-f]{64}$/;

export async function contentKey(request: ImageRequest): Promise<string> {
  return sha256Hex(canonicalRequestJson(request, request.seed));
}

/** `/v1/images/<key>.png`: where a stored picture can always be read by its key. */
export function contentPath(key: string): string {
  return `/v1/images/${key}.png`;
}
