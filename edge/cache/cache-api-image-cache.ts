// ImageCache on the Workers Cache API (caches.default). Entries are stored as the PNG response with
// an immutable Cache-Control, so Cloudflare keeps them as long as its eviction allows; Cloudflare's
// docs recommend keys on the request's own host, hence content URLs on the request origin.
import { type CachedImage, type ImageCache, type ImagePayload } from './image-cache';
import { IMMUTABLE_CACHE_CONTROL } from '../storage/image-store';

const SEED_HEADER = 'X-Seed';

export class CacheApiImageCache implements ImageCache {
  readonly #cache: Cache;

  constructor(cache: Cache) {
    this.#cache = cache;
  }

  async match(contentUrl: string): Promise<CachedImage | null> {
    const response = await this.#cache.match(contentUrl);
    if (response === undefined || response.body === null) return null;
    const seed = response.headers.get(SEED_HEADER);
    return {
      body: response.body,
      size: Number(response.headers.get('Content-Length') ?? 0),
      seed: seed === null ? undefined : Number(seed),
    };
  }

  async put(contentUrl: string, image: ImagePayload): Promise<void> {
    const headers = new Headers({
      'Content-Type': 'image/png',
      'Content-Length': String(image.size),
      'Cache-Control': IMMUTABLE_CACHE_CONTROL,
    });
    if (image.seed !== undefined) headers.set(SEED_HEADER, String(image.seed));
    await this.#cache.put(contentUrl, new Response(image.body, { headers }));
  }
}
