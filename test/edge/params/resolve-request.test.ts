// A query string is validated and hashed once per isolate: the resolver remembers what recent query
// strings resolved to, so a repeated URL — the hit path of a popular picture — computes no SHA-256.
// Digests are counted by watching Web Crypto's own digest, which keeps working as it does.
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../edge/config';
import { contentKey, derivedSeed } from '../../../edge/request/content-key';
import { createImageQueryReader } from '../../../edge/request/image-query';
import { createRequestResolver, RECENT_QUERIES } from '../../../edge/request/resolve-request';

const config = parseConfig(env as unknown as Record<string, unknown>);
const readQuery = createImageQueryReader(config.models, config.defaultModel);

let digests: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  digests = vi.spyOn(crypto.subtle, 'digest');
});
afterEach(() => digests.mockRestore());

describe('resolving a query string', () => {
  it('gives the derived seed and content key that computing them directly gives', async () => {
    const { query, request, key } = await createRequestResolver(readQuery)('?prompt=a+lighthouse+at+dusk');
    const seed = await derivedSeed(readQuery('?prompt=a+lighthouse+at+dusk').request);
    expect(request).toEqual({ ...query.request, seed });
    expect(key).toBe(await contentKey({ ...query.request, seed }));
  });

  it('hashes a query string it has seen before not at all, and answers the same', async () => {
    const resolve = createRequestResolver(readQuery);
    const first = await resolve('?prompt=a+red+fox&steps=8');
    // A derived seed and the content key: two digests the first time.
    expect(digests).toHaveBeenCalledTimes(2);
    const again = await resolve('?prompt=a+red+fox&steps=8');
    expect(digests).toHaveBeenCalledTimes(2);
    expect(again).toBe(first);
    // Another spelling of the same picture is its own query string: resolved (and remembered) once, same key.
    const other = await resolve('?steps=8&prompt=a%20red%20fox');
    expect(digests).toHaveBeenCalledTimes(4);
    expect(other.key).toBe(first.key);
  });

  it('forgets the least recently used query string beyond its capacity', async () => {
    const resolve = createRequestResolver(readQuery, 2);
    await resolve('?prompt=one&seed=1');
    await resolve('?prompt=two&seed=2');
    await resolve('?prompt=one&seed=1'); // now the most recently used
    await resolve('?prompt=three&seed=3'); // pushes "two" out
    digests.mockClear();
    await resolve('?prompt=one&seed=1');
    expect(digests).not.toHaveBeenCalled();
    await resolve('?prompt=two&seed=2');
    expect(digests).toHaveBeenCalledTimes(1);
    expect(RECENT_QUERIES).toBeGreaterThanOrEqual(256);
  });

  it('hashes nothing for seed=random (a new seed each time) and refuses a bad query every time', async () => {
    const resolve = createRequestResolver(readQuery);
    const random = await resolve('?prompt=a+red+fox&seed=random');
    expect([random.request, random.key]).toEqual([undefined, undefined]);
    expect(digests).not.toHaveBeenCalled();
    await expect(resolve('?prompt=a+red+fox&steps=zero')).rejects.toMatchObject({ problem: { status: 400 } });
    await expect(resolve('?prompt=a+red+fox&steps=zero')).rejects.toMatchObject({ problem: { status: 400 } });
  });
});
