// The read path: Cache API (or LRU) first, then the image store; a store hit warms the cache in the
// background. Used by both picture routes; generation is the caller's business. A store that cannot
// be read is a 503 (store-read.ts), never a miss, so an outage does not turn into regenerations.
import type { Context } from 'hono';
import type { AppDeps } from '../app-deps';
import type { CacheOutcome } from '../http/cache-status';
import { inBackground } from '../http/background';
import { seedOf } from '../storage/image-metadata';
import { readStore } from '../storage/store-read';

export interface FoundImage {
  readonly outcome: Extract<CacheOutcome, 'hit-cache' | 'hit-store'>;
  /** Absent when only headers were asked for. */
  readonly body: ReadableStream<Uint8Array> | undefined;
  readonly size: number;
  readonly seed: number | undefined;
}

export async function findImage(
  deps: Pick<AppDeps, 'cache' | 'store'>,
  c: Context,
  key: string,
  contentUrl: string,
  withBody: boolean,
): Promise<FoundImage | null> {
  const cached = await deps.cache.match(contentUrl);
  if (cached !== null) {
    if (!withBody) await cached.body.cancel();
    return { outcome: 'hit-cache', body: withBody ? cached.body : undefined, size: cached.size, seed: cached.seed };
  }
  if (!withBody) {
    const info = await readStore('head', key, () => deps.store.head(key));
    return info === null ? null : { outcome: 'hit-store', body: undefined, size: info.size, seed: seedOf(info.metadata) };
  }
  const stored = await readStore('get', key, () => deps.store.get(key));
  if (stored === null) return null;
  const seed = seedOf(stored.metadata);
  const [forClient, forCache] = stored.body.tee();
  inBackground(c, deps.cache.put(contentUrl, { body: forCache, size: stored.size, seed }));
  return { outcome: 'hit-store', body: forClient, size: stored.size, seed };
}
