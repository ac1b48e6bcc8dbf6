// Where generated pictures live for good: one object per content key at `images/<key>.png`, with the
// request as metadata. Implemented by R2 on Workers (r2-image-store.ts) and by S3 on Node.
// Implementations only move bytes and string metadata; they never interpret either.

/** String metadata stored with the object (see image-metadata.ts for the fields). */
export type ImageMetadata = Readonly<Record<string, string>>;

export interface StoredImageInfo {
  readonly size: number;
  readonly metadata: ImageMetadata;
}

export interface StoredImage extends StoredImageInfo {
  /** The PNG; the caller must consume or cancel it. */
  readonly body: ReadableStream<Uint8Array>;
}

export interface ImageStore {
  /** The picture, or null when no object exists under the key. */
  get(key: string): Promise<StoredImage | null>;
  /** Size and metadata without the body, or null. */
  head(key: string): Promise<StoredImageInfo | null>;
  /** Writes the complete PNG; resolves once the object is durable. */
  put(key: string, png: Uint8Array, metadata: ImageMetadata): Promise<void>;
}

/** The object name for a content key. */
export function imageObjectKey(key: string): string {
  return `images/${key}.png`;
}

/** Cache-Control stored with the object, so the bucket served directly (r2.dev, S3) behaves too. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
