// From a query string to what the read path looks up: the validated query, the fully resolved request
// (its seed derived when the URL has none) and its content key. Both hashes are SHA-256 over the
// canonical request (content-key.ts), and a popular picture's URL arrives again and again: so each
// isolate remembers what its recently seen query strings resolved to, and a repeated URL costs a Map
// look-up instead of a parse, a validation and two digests (issue #12). The answer is a pure function of
// the query string and the edge's configuration (fixed for the isolate's life), so a remembered one is
// exactly what recomputing would give. `seed=random` is never remembered: it means a new seed each time.
import { contentKey, derivedSeed } from './content-key';
import type { ImageQuery, ImageQueryReader, ImageRequest } from './image-query';

/** Query strings remembered per isolate: at most a few MB even with 1000-character prompts. */
export const RECENT_QUERIES = 1024;

export type ResolvedQuery =
  | { readonly query: ImageQuery; readonly request: ImageRequest; readonly key: string }
  /** `seed=random`: no picture yet, so no request or key (the route redirects to a fresh seed). */
  | { readonly query: ImageQuery; readonly request: undefined; readonly key: undefined };

export type RequestResolver = (search: string) => Promise<ResolvedQuery>;

/** A resolver that remembers the last `capacity` query strings it resolved (least recently used goes first). */
export function createRequestResolver(readQuery: ImageQueryReader, capacity: number = RECENT_QUERIES): RequestResolver {
  const recent = new Map<string, ResolvedQuery>();
  return async function resolveRequest(search) {
    const known = recent.get(search);
    if (known !== undefined) {
      // Map keeps insertion order: moving a hit to the end makes the first entry the least recently used.
      recent.delete(search);
      recent.set(search, known);
      return known;
    }
    // Invalid queries throw here (400) and are not remembered.
    const query = readQuery(search);
    if (query.seed === 'random') return { query, request: undefined, key: undefined };
    const seed = query.seed === 'derived' ? await derivedSeed(query.request) : query.seed;
    const request: ImageRequest = { ...query.request, seed };
    const resolved: ResolvedQuery = { query, request, key: await contentKey(request) };
    if (capacity > 0) {
      recent.set(search, resolved);
      if (recent.size > capacity) recent.delete(recent.keys().next().value!);
    }
    return resolved;
  };
}
