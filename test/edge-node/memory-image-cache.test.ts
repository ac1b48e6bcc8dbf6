// The Node edge's LRU in place of the Cache API: bounded by bytes, least recently used out first,
// streams in and out, and a budget of 0 means no cache.
import { describe, expect, it } from 'vitest';
import { MemoryImageCache } from '../../edge/node/memory-image-cache';

const URL_A = 'http://edge.test/v1/images/aaaa.png'; // 35 characters each
const URL_B = 'http://edge.test/v1/images/bbbb.png';
const URL_C = 'http://edge.test/v1/images/cccc.png';

const png = (size: number, fill: number) => new Uint8Array(size).fill(fill);

function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function read(cache: MemoryImageCache, url: string): Promise<{ bytes: Uint8Array; size: number; seed: number | undefined } | null> {
  const hit = await cache.match(url);
  if (hit === null) return null;
  return { bytes: new Uint8Array(await new Response(hit.body).arrayBuffer()), size: hit.size, seed: hit.seed };
}

describe('MemoryImageCache', () => {
  it('serves what was put, from bytes or a stream, with its size and seed, as often as asked', async () => {
    const cache = new MemoryImageCache(10_000);
    await cache.put(URL_A, { body: png(100, 1), size: 100, seed: 42 });
    await cache.put(URL_B, { body: streamOf(png(60, 2), png(40, 3)), size: 100, seed: undefined });
    expect(await read(cache, URL_A)).toEqual({ bytes: png(100, 1), size: 100, seed: 42 });
    expect(await read(cache, URL_A)).toEqual({ bytes: png(100, 1), size: 100, seed: 42 });
    expect(await read(cache, URL_B)).toEqual({ bytes: Uint8Array.from([...png(60, 2), ...png(40, 3)]), size: 100, seed: undefined });
    expect(await cache.match(URL_C)).toBeNull();
    expect(cache.stats()).toEqual({ entries: 2, bytes: 200 + 2 * URL_A.length, maxBytes: 10_000 });
  });

  it('keeps its own copy: changing the bytes it was given or served changes nothing', async () => {
    const cache = new MemoryImageCache(10_000);
    const given = png(10, 7);
    await cache.put(URL_A, { body: given, size: 10, seed: 1 });
    given.fill(0);
    const first = await read(cache, URL_A);
    first!.bytes.fill(0);
    expect((await read(cache, URL_A))!.bytes).toEqual(png(10, 7));
  });

  it('evicts the least recently used entries once over budget (reads count as use)', async () => {
    const entry = 100 + URL_A.length; // 135 bytes
    const cache = new MemoryImageCache(3 * entry);
    await cache.put(URL_A, { body: png(100, 1), size: 100, seed: 1 });
    await cache.put(URL_B, { body: png(100, 2), size: 100, seed: 2 });
    await cache.put(URL_C, { body: png(100, 3), size: 100, seed: 3 });
    expect(cache.stats().entries).toBe(3);
    await read(cache, URL_A); // A is now more recent than B
    await cache.put('http://edge.test/v1/images/dddd.png', { body: png(100, 4), size: 100, seed: 4 });
    expect(await cache.match(URL_B)).toBeNull();
    expect(await read(cache, URL_A)).not.toBeNull();
    expect(await read(cache, URL_C)).not.toBeNull();
    expect(cache.stats()).toEqual({ entries: 3, bytes: 3 * entry, maxBytes: 3 * entry });
  });

  it('replaces an entry put again without counting it twice', async () => {
    const cache = new MemoryImageCache(10_000);
    await cache.put(URL_A, { body: png(100, 1), size: 100, seed: 1 });
    await cache.put(URL_A, { body: png(50, 2), size: 50, seed: 1 });
    expect(cache.stats()).toEqual({ entries: 1, bytes: 50 + URL_A.length, maxBytes: 10_000 });
  });

  it('skips a picture larger than the whole budget instead of emptying the cache for it, and cancels its stream', async () => {
    const cache = new MemoryImageCache(200 + URL_A.length);
    await cache.put(URL_A, { body: png(200, 1), size: 200, seed: 1 });
    let cancelled = false;
    const big = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(png(150, 9)); // never ends on its own
      },
      cancel() {
        cancelled = true;
      },
    });
    await cache.put(URL_B, { body: big, size: 1_000_000, seed: 2 });
    expect(cancelled).toBe(true);
    expect(await cache.match(URL_B)).toBeNull();
    expect(await read(cache, URL_A)).not.toBeNull();
  });

  it('is off with a budget of 0', async () => {
    const cache = new MemoryImageCache(0);
    await cache.put(URL_A, { body: png(1, 1), size: 1, seed: 1 });
    expect(await cache.match(URL_A)).toBeNull();
    expect(cache.stats().entries).toBe(0);
  });

  it.each([-1, 1.5, Number.NaN])('refuses a budget of %s', (maxBytes) => {
    expect(() => new MemoryImageCache(maxBytes)).toThrow(TypeError);
  });
});
