// With URL_SIGNING_KEY set, only signed URLs may generate; reading what is stored needs no signature.
import { describe, expect, it } from 'vitest';
import { problemSchema } from '../../../contract';
import { signedImageUrl } from '../../../edge/request/url-signature';
import { edgeApp, imagesPath, ORIGIN } from '../support/edge-app';
import { gpuCalls, uniquePrompt } from '../support/gpu-stub';

const KEY = 'site-owner-secret';
const app = edgeApp({ URL_SIGNING_KEY: KEY });

async function signed(params: Record<string, string | number>): Promise<string> {
  const url = new URL(await signedImageUrl(ORIGIN, params, KEY));
  return url.pathname + url.search;
}

describe('signed URLs', () => {
  it('refuses to generate without a signature (403), generates with one', async () => {
    const prompt = uniquePrompt('a signed lighthouse');
    const unsigned = await app.request(imagesPath({ prompt }));
    expect(unsigned.status).toBe(403);
    expect(problemSchema.parse(await unsigned.json())).toMatchObject({ status: 403, type: 'urn:dreamurl:problem:signature-required' });
    expect(await gpuCalls(prompt)).toHaveLength(0);

    expect((await app.request(await signed({ prompt }))).status).toBe(200);
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });

  it('serves a stored picture without a signature, and with a wrong one', async () => {
    const prompt = uniquePrompt('a stored lighthouse');
    const made = await app.request(await signed({ prompt, steps: 8 }));
    expect(made.status).toBe(200);
    const plain = await app.request(imagesPath({ prompt, steps: 8 }));
    expect(plain.status).toBe(200);
    expect(plain.headers.get('Cache-Status')).toMatch(/hit/);
    expect((await app.request(`${imagesPath({ prompt, steps: 8 })}&sig=${'A'.repeat(43)}`)).status).toBe(200);
  });

  it.each([
    ['a changed parameter', (q: string) => q.replace('steps=8', 'steps=9')],
    ['an added parameter', (q: string) => q.replace('steps=8', 'steps=8&guidance=3')],
    ['a removed parameter', (q: string) => q.replace('steps=8&', '')],
    ['a corrupted signature', (q: string) => q.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`)],
    ['a signature by another key', (q: string) => q.replace(/sig=[^&]+/, 'sig=m-TqHV1mBZpeNTp9L_643WLxLDWycJQmGgqxxFU3n6k')],
  ])('refuses %s (403) and generates nothing', async (_label, tamper) => {
    const prompt = uniquePrompt('a tampered lighthouse');
    const url = tamper(await signed({ prompt, steps: 8, seed: 5 }));
    const res = await app.request(url);
    expect(res.status).toBe(403);
    expect(await gpuCalls(prompt)).toHaveLength(0);
  });

  it('accepts the same parameters spelled differently (+ for spaces, another order)', async () => {
    const prompt = uniquePrompt('a respelled lighthouse');
    const url = new URL(await signedImageUrl(ORIGIN, { prompt, seed: 3 }, KEY));
    const sig = url.searchParams.get('sig') ?? '';
    const respelled = `/v1/images?seed=3&sig=${sig}&prompt=${prompt.replaceAll(' ', '+')}`;
    expect((await app.request(respelled)).status).toBe(200);
  });

  it('requires a signature for seed=random and signs the URL it redirects to', async () => {
    const prompt = uniquePrompt('a random lighthouse');
    expect((await app.request(imagesPath({ prompt, seed: 'random' }))).status).toBe(403);
    const redirect = await app.request(await signed({ prompt, seed: 'random' }));
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('Location') ?? '';
    expect(location).toMatch(/&sig=[A-Za-z0-9_-]{43}$/);
    expect((await app.request(location)).status).toBe(200);
  });

  it('answers HEAD of an unsigned miss with 403 too, since GET would be refused', async () => {
    const prompt = uniquePrompt('a headless lighthouse');
    expect((await app.request(imagesPath({ prompt }), { method: 'HEAD' })).status).toBe(403);
  });
});
