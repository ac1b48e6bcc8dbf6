// A URL without `seed` still means one picture: its seed is derived from everything else the URL
// says, as the first 4 bytes (big-endian) of sha256 over the canonical JSON without a seed member.
// So the derived seed changes whenever anything else that changes pixels does.
import { MAX_SEED } from '../../contract';
import type { UnseededImageRequest } from '../params/image-request';
import { canonicalRequestJson } from './canonical-request';
import { sha256 } from './sha256';

export async function derivedSeed(request: UnseededImageRequest): Promise<number> {
  const digest = await sha256(canonicalRequestJson(request, undefined));
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false);
}

/** A fresh seed for `seed=random`, uniform over the contract's seed range. */
export function randomSeed(): number {
  const [value = 0] = crypto.getRandomValues(new Uint32Array(1));
  return value % (MAX_SEED + 1);
}
