// ImageStore on Cloudflare R2 (the Worker's IMAGES binding).
import {
  type ImageMetadata,
  type ImageStore,
  IMMUTABLE_CACHE_CONTROL,
  imageObjectKey,
  type StoredImage,
  type StoredImageInfo,
} from './image-store';

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
