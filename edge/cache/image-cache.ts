// The fast path in front of the image store: recently served pictures, keyed by their content URL
// (`<origin>/v1/images/<key>.png`). The Cache API implements it on Workers (per data centre); an
// in-memory LRU on Node. A cache may forget anything at any time; the store stays the truth.

export interface ImagePayload {
  readonly body: ReadableStream<Uint8Array> | Uint8Array;
  readonly size: number;
  /** X-Seed of the picture; undefined only for objects written by something else. */
  readonly seed: number | undefined;
}

export interface CachedImage extends ImagePayload {
  /** The PNG; the caller must consume or cancel it. */
  readonly body: ReadableStream<Uint8Array>;
}

export interface ImageCache {
  match(contentUrl: string): Promise<CachedImage | null>;
  /** Takes ownership of a stream body. */
  put(contentUrl: string, image: ImagePayload): Promise<void>;
}
