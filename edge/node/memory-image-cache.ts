// ImageCache in process memory for the Node edge, in place of the Workers Cache API: a
// least-recently-used map bounded by bytes (PNG bytes plus the content URL), so a busy instance
// keeps its hottest pictures without growing past IMAGE_CACHE_MAX_BYTES. Like the Cache API it
// may forget anything; the image store stays the truth. Per process: instances do not share it.
import { readCapped } from '../../contract';
import type { CachedImage, ImageCache, ImagePayload } from '../storage';

interface Entry {
  readonly png: Uint8Array;
  readonly seed: number | undefined;
  readonly bytes: number;
}

export interface MemoryImageCacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
}

export class MemoryImageCache implements ImageCache {
  readonly #maxBytes: number;
  /** Map iteration order is insertion order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  /** @param maxBytes the budget; 0 turns the cache off (every match misses). */
  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new TypeError(`maxBytes must be a whole number of bytes ≥ 0, got ${maxBytes}`);
    }
    this.#maxBytes = maxBytes;
  }

  async match(contentUrl: string): Promise<CachedImage | null> {
    const entry = this.#entries.get(contentUrl);
    if (entry === undefined) return null;
    this.#entries.delete(contentUrl); // now the most recently used
    this.#entries.set(contentUrl, entry);
    // A copy per reader: whoever consumes the stream may transfer or detach its buffers.
    const png = entry.png.slice();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(png);
        controller.close();
      },
    });
    return { body, size: png.byteLength, seed: entry.seed };
  }

  async put(contentUrl: string, image: ImagePayload): Promise<void> {
    const room = this.#maxBytes - contentUrl.length;
    const png = image.body instanceof Uint8Array ? image.body.slice() : await readCapped(image.body, room);
    if (png === null || png.byteLength > room) return; // larger than the whole budget: not worth evicting everything
    this.#forget(contentUrl);
    const entry: Entry = { png, seed: image.seed, bytes: png.byteLength + contentUrl.length };
    this.#entries.set(contentUrl, entry);
    this.#bytes += entry.bytes;
    for (const [url] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#forget(url);
    }
  }

  stats(): MemoryImageCacheStats {
    return { entries: this.#entries.size, bytes: this.#bytes, maxBytes: this.#maxBytes };
  }

  #forget(contentUrl: string): void {
    const entry = this.#entries.get(contentUrl);
    if (entry === undefined) return;
    this.#entries.delete(contentUrl);
    this.#bytes -= entry.bytes;
  }
}
