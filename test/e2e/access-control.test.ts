// End to end over real HTTP: who may make new pictures. One GPU function on tiny-sd and two wrangler
// dev edges in front of it, one per configuration: a low rate limit, and URL signing. Cache hits and
// stored pictures stay free and open in both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedImageUrl } from '../../edge/request/url-signature';
import { fetchAnswer, imageUrl } from '../support/stack-http';
import { startStackEdge, startStackGpu, type StackEdge, type StackGpu } from '../support/stack-processes';

let gpu: StackGpu;

beforeAll(async () => {
  gpu = await startStackGpu();
});

afterAll(async () => {
  await gpu?.close();
});

describe('RATE_LIMIT_PER_MINUTE=2', () => {
  let edge: StackEdge;
  beforeAll(async () => {
    edge = await startStackEdge(gpu, { vars: { RATE_LIMIT_PER_MINUTE: '2' } });
  });
  afterAll(async () => {
    await edge?.stop();
  });

  it('two new pictures, then 429 with Retry-After and RateLimit headers; hits and stored pictures still 200', async () => {
    const before = await gpu.generations();
    const first = await fetchAnswer(imageUrl(edge.url, { prompt: 'rate one' }));
    const second = await fetchAnswer(imageUrl(edge.url, { prompt: 'rate two' }));
    expect([first.status, second.status]).toEqual([200, 200]);
    // draft-ietf-httpapi-ratelimit-headers: quota 2 per 60 s window, r = what is left.
    expect(first.headers.get('RateLimit-Policy')).toBe('"generations";q=2;w=60');
    expect(first.headers.get('RateLimit')).toMatch(/^"generations";r=1;t=\d+$/);
    expect(second.headers.get('RateLimit')).toMatch(/^"generations";r=0;t=\d+$/);

    const third = await fetchAnswer(imageUrl(edge.url, { prompt: 'rate three' }));
    expect(third.status).toBe(429);
    expect(third.headers.get('Content-Type')).toBe('application/problem+json');
    expect(third.problem().type).toBe('urn:dreamurl:problem:rate-limited');
    const retryAfter = Number(third.headers.get('Retry-After'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 30).toBe(true); // one token per 30 s
    expect(third.headers.get('RateLimit-Policy')).toBe('"generations";q=2;w=60');
    expect(third.headers.get('RateLimit')).toMatch(/^"generations";r=0;t=\d+$/);
    expect(await gpu.generations()).toBe(before + 2);

    // Hits are never limited: the first picture again, and the second by its content URL.
    const hit = await fetchAnswer(imageUrl(edge.url, { prompt: 'rate one' }));
    expect(hit.status).toBe(200);
    expect(hit.headers.get('Cache-Status')).toMatch(/^dreamurl; hit/);
    expect(hit.bytes).toEqual(first.bytes);
    const stored = await fetchAnswer(`${edge.url}${second.headers.get('Content-Location')}`);
    expect(stored.status).toBe(200);
    expect(stored.bytes).toEqual(second.bytes);
    // …while a new one is still refused, and nothing was generated for the refusals.
    expect((await fetchAnswer(imageUrl(edge.url, { prompt: 'rate four' }))).status).toBe(429);
    expect(await gpu.generations()).toBe(before + 2);
  });
});

describe('URL_SIGNING_KEY set', () => {
  // Characters an env file could mangle ($ expansion, # comments, quotes, backslashes): the key must
  // reach the Worker exactly, or no signature would verify.
  const key = 'e2e key $HOME ${PATH} #not-a-comment "quoted" back\\slash \\$ end';
  let edge: StackEdge;
  beforeAll(async () => {
    edge = await startStackEdge(gpu, { secrets: { URL_SIGNING_KEY: key } });
  });
  afterAll(async () => {
    await edge?.stop();
  });

  it('an unsigned miss is 403 and stores nothing; the signed URL generates; the picture then reads unsigned', async () => {
    const params = { prompt: 'a signed lighthouse', seed: 7 };
    const before = await gpu.generations();

    const unsigned = await fetchAnswer(imageUrl(edge.url, params));
    expect(unsigned.status).toBe(403);
    expect(unsigned.problem().type).toBe('urn:dreamurl:problem:signature-required');
    const signedUrl = await signedImageUrl(edge.url, params, key);
    const head = await fetch(signedUrl, { method: 'HEAD' }); // names the content URL, never generates
    const contentUrl = `${edge.url}${head.headers.get('Content-Location')}`;
    expect((await fetchAnswer(contentUrl)).status).toBe(404);

    const signed = await fetchAnswer(signedUrl);
    expect(signed.status).toBe(200);
    expect(signed.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss; stored');
    expect(await gpu.generations()).toBe(before + 1);

    const unsignedHit = await fetchAnswer(imageUrl(edge.url, params));
    expect(unsignedHit.status).toBe(200);
    expect(unsignedHit.bytes).toEqual(signed.bytes);
    const stored = await fetchAnswer(contentUrl);
    expect(stored.status).toBe(200);
    expect(stored.bytes).toEqual(signed.bytes);
    expect(await gpu.generations()).toBe(before + 1);
  });

  it('a signature does not carry over to other parameters, nor does one made with another key', async () => {
    const signedUrl = new URL(await signedImageUrl(edge.url, { prompt: 'one picture' }, key));
    signedUrl.searchParams.set('prompt', 'another picture');
    expect((await fetchAnswer(signedUrl.toString())).status).toBe(403);
    const otherKey = await signedImageUrl(edge.url, { prompt: 'one picture' }, 'not the key');
    expect((await fetchAnswer(otherKey)).status).toBe(403);
  });

  it('neither the signing key nor the GPU token appears in what wrangler printed', () => {
    const printed = edge.log.lines.join('\n');
    expect(printed).toContain('URL_SIGNING_KEY'); // the bindings table names it…
    expect(printed).not.toContain(key); // …but never shows it
    expect(printed).not.toContain('#not-a-comment');
    expect(printed).not.toContain(gpu.token);
  });
});
