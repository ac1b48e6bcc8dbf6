// GET|HEAD /v1/images/<key>.png — a stored picture by its content key (the Content-Location of every
// picture answer). Never generates: a key that is not stored is a 404. Only 64 lower-case hex digits
// are a key; the router sends anything else to the 404 handler.
// findImage is the read path both picture routes share: the Cache API (or LRU) first, then the image
// store; a store hit warms the cache in the background. The cache key is the canonical content URL
// (cacheUrl), whatever Host or spelling the request came with. A store that cannot be read is a 503
// (readStore), never a miss, so an outage does not turn into regenerations.
import type { Context } from 'hono';
import type { AppDeps } from '../app';
import { inBackground } from '../log';
import { notFound } from '../problems';
import { cacheUrl } from '../request/content-key';
import { type CacheOutcome, imageResponse, isConditional, notModifiedResponse } from '../responses';
import { readStore, seedOf } from '../storage';

export const IMAGE_BY_KEY_PATH = '/v1/images/:file{[0-9a-f]{64}\\.png}';

export function imageByKeyRoute(deps: AppDeps) {
  return async function getImageByKey(c: Context): Promise<Response> {
    const key = c.req.param('file')?.slice(0, 64) ?? '';
    const conditional = isConditional(c.req.header('If-None-Match'), key);
    const withBody = c.req.method !== 'HEAD' && !conditional;
    const found = await findImage(deps, c, key, withBody);
    if (found === null) throw notFound(`No picture is stored under ${key}.`);
    const answer = { key, seed: found.seed, outcome: found.outcome };
    if (conditional) return notModifiedResponse(answer);
    return imageResponse(answer, found.body, found.size);
  };
}

export interface FoundImage {
  readonly outcome: Extract<CacheOutcome, 'hit-cache' | 'hit-store'>;
  /** Absent when only headers were asked for. */
  readonly body: ReadableStream<Uint8Array> | undefined;
  readonly size: number;
  readonly seed: number | undefined;
}

export async function findImage(
  deps: Pick<AppDeps, 'cache' | 'store' | 'config'>,
  c: Context,
  key: string,
  withBody: boolean,
): Promise<FoundImage | null> {
  const contentUrl = cacheUrl(deps.config.cacheOrigin, key);
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
