// Where pictures live. The image store is the truth: one object per content key at
// `images/<key>.png`, with the request as metadata (R2 on Workers, S3 on Node). The image cache is the
// fast path in front of it, keyed by content URL on a fixed origin (cacheUrl): the Cache API on
// Workers (per data centre), an in-memory LRU on Node; it may forget anything at any time.
// Implementations only move bytes and string metadata; they never interpret either.
import { PIPELINE_VERSION } from '../contract';
import { log } from './log';
import { storageUnavailable } from './problems';
import type { ImageRequest } from './request/image-query';

/** String metadata stored with the object (see imageMetadata for the fields). */
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

/** The object name for a content key. */
export function imageObjectKey(key: string): string {
  return `images/${key}.png`;
}

/** Cache-Control stored with the object, so the bucket served directly (r2.dev, S3) behaves too. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** R2 and S3 both cap user metadata at 2 KiB. */
const METADATA_BUDGET_BYTES = 2048;

/**
 * The request stored with each picture: the scalar fields always, the prompts only when they fit the
 * budget (the content key, the object's name, hashes the full request in any case).
 */
export function imageMetadata(request: ImageRequest): ImageMetadata {
  const scalars: Record<string, string> = {
    model: request.model.name,
    repo: request.model.repo,
    revision: request.model.revision,
    pipeline_version: String(PIPELINE_VERSION),
    seed: String(request.seed),
    steps: String(request.steps),
    guidance: String(request.guidance),
    width: String(request.width),
    height: String(request.height),
    scheduler: request.scheduler,
  };
  const withPrompts = { ...scalars, prompt: request.prompt, negative_prompt: request.negative_prompt };
  return byteSize(withPrompts) <= METADATA_BUDGET_BYTES ? withPrompts : scalars;
}

/** The seed of a stored picture (X-Seed), or undefined for an object written by something else. */
export function seedOf(metadata: ImageMetadata): number | undefined {
  const seed = metadata.seed;
  return seed !== undefined && /^[0-9]{1,10}$/.test(seed) ? Number(seed) : undefined;
}

function byteSize(record: Record<string, string>): number {
  const encoder = new TextEncoder();
  return Object.entries(record).reduce((n, [k, v]) => n + encoder.encode(k).length + encoder.encode(v).length, 0);
}

/** Long enough for a store to recover from a blip, short enough that a page's <img> retry helps. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * A read from the store whose failure must never look like a miss: a miss makes the edge generate, so
 * an unreadable store (S3 down, R2 erroring, wrong credentials) would turn every request into a GPU
 * call, a regeneration storm. Instead the request is answered 503 with Retry-After, and the failure is
 * logged (the error, never a prompt).
 */
export async function readStore<T>(operation: 'get' | 'head', key: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    log('error', 'store_read_failed', { operation, key, error: String(error) });
    throw storageUnavailable(STORE_RETRY_AFTER_SECONDS, error);
  }
}
