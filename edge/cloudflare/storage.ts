// The Worker's stores behind edge/storage.ts's interfaces: the pictures in R2 (the IMAGES binding),
// and the Cache API (caches.default) in front of them. Cache entries are the PNG response with an
// immutable Cache-Control, so Cloudflare keeps them as long as its eviction allows. Keys are content
// URLs on one fixed origin (cacheUrl); Cloudflare's Cache API docs advise the Worker's own hostname,
// which PUBLIC_ORIGIN sets (docs/edge-configuration.md).
import {
  type CachedImage,
  type ImageCache,
  type ImageMetadata,
  type ImagePayload,
  type ImageStore,
  IMMUTABLE_CACHE_CONTROL,
  imageObjectKey,
  type StoredImage,
  type StoredImageInfo,
} from '../storage';

export class R2ImageStore implements ImageStore {
  readonly #bucket: R2Bucket;

  constructor(bucket: R2Bucket) {
    this.#bucket = bucket;
  }

  async get(key: string): Promise<StoredImage | null> {
    const object = await this.#bucket.get(imageObjectKey(key));
    if (object === null) return null;
    return { body: object.body, size: object.size, metadata: object.customMetadata ?? {} };
  }

  async head(key: string): Promise<StoredImageInfo | null> {
    const object = await this.#bucket.head(imageObjectKey(key));
    if (object === null) return null;
    return { size: object.size, metadata: object.customMetadata ?? {} };
  }

  async put(key: string, png: Uint8Array, metadata: ImageMetadata): Promise<void> {
    await this.#bucket.put(imageObjectKey(key), png, {
      httpMetadata: { contentType: 'image/png', cacheControl: IMMUTABLE_CACHE_CONTROL },
      customMetadata: { ...metadata },
    });
  }
}

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
