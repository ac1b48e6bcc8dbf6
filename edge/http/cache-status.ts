// Cache-Status (RFC 9211): one member for this service's cache, the Cache API and the image store
// together. `hit` — served without generating; `fwd=miss; stored` — generated (RFC 9211 §2.2, §2.6)
// and now stored; `fwd=miss` alone — not in the cache and not generated (a HEAD);
// `fwd=miss; detail=not-stored` — generated, but the store refused the write (no `stored`, §2.6).
export const CACHE_NAME = 'dreamurl';

export type CacheOutcome = 'hit-cache' | 'hit-store' | 'generated' | 'coalesced' | 'not-stored' | 'miss';

export function cacheStatus(outcome: CacheOutcome): string {
  switch (outcome) {
    case 'hit-cache':
      return `${CACHE_NAME}; hit; detail=cache`;
    case 'hit-store':
      return `${CACHE_NAME}; hit; detail=store`;
    case 'generated':
      return `${CACHE_NAME}; fwd=miss; stored`;
    case 'coalesced':
      // Missed here, but another request's generation stored it meanwhile.
      return `${CACHE_NAME}; fwd=miss; stored; detail=coalesced`;
    case 'not-stored':
      return `${CACHE_NAME}; fwd=miss; detail=not-stored`;
    case 'miss':
      return `${CACHE_NAME}; fwd=miss`;
  }
}
