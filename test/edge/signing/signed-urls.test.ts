// With URL_SIGNING_KEY set, only signed URLs may generate; reading what is stored needs no signature.
import { describe, expect, it } from 'vitest';
import { problemSchema } from '../../../contract';
import { signedImageUrl } from '../../../edge/request/url-signature';
import { RANDOM_SEED_URL_LIFETIME_SECONDS } from '../../../edge/routes/images';
import { edgeApp, imagesPath, ORIGIN } from '../support/edge-app';
import { gpuCalls, uniquePrompt } from '../support/gpu-stub';

const KEY = 'site-owner-secret, 32 bytes or longer';
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
    expect(location).toMatch(/&exp=[0-9]+&sig=[A-Za-z0-9_-]{43}$/);
    expect((await app.request(location)).status).toBe(200);
  });

  it(`signs the seed=random redirect with an exp ${RANDOM_SEED_URL_LIFETIME_SECONDS} s away, which the signature covers`, async () => {
    const prompt = uniquePrompt('a lighthouse for a while');
    const before = Math.floor(Date.now() / 1000);
    const redirect = await app.request(await signed({ prompt, seed: 'random' }));
    const location = new URL(redirect.headers.get('Location') ?? '', ORIGIN);
    const exp = Number(location.searchParams.get('exp'));
    expect(exp).toBeGreaterThanOrEqual(before + RANDOM_SEED_URL_LIFETIME_SECONDS);
    expect(exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + RANDOM_SEED_URL_LIFETIME_SECONDS);
    // A later exp is another URL: the signature no longer matches.
    const extended = `${location.pathname}${location.search.replace(`exp=${exp}`, `exp=${exp + 86_400}`)}`;
    expect((await app.request(extended)).status).toBe(403);
    expect(await gpuCalls(prompt)).toHaveLength(0);
    expect((await app.request(location.pathname + location.search)).status).toBe(200);
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });

  it('keeps a signed seed=random URL’s own exp when it is sooner, and refuses it once passed', async () => {
    const prompt = uniquePrompt('a lighthouse for a minute');
    const soon = Math.floor(Date.now() / 1000) + 60;
    const redirect = await app.request(await signed({ prompt, seed: 'random', exp: soon }));
    expect(new URL(redirect.headers.get('Location') ?? '', ORIGIN).searchParams.get('exp')).toBe(String(soon));
    const passed = await app.request(await signed({ prompt, seed: 'random', exp: Math.floor(Date.now() / 1000) - 1 }));
    expect(passed.status).toBe(403);
    expect(problemSchema.parse(await passed.json())).toMatchObject({ type: 'urn:dreamurl:problem:signature-expired' });
  });

  it('refuses to generate for a signed URL past its exp, but serves its picture once stored', async () => {
    const prompt = uniquePrompt('an expired lighthouse');
    const past = Math.floor(Date.now() / 1000) - 1;
    const expired = await app.request(await signed({ prompt, seed: 9, exp: past }));
    expect(expired.status).toBe(403);
    expect(problemSchema.parse(await expired.json())).toMatchObject({ status: 403, type: 'urn:dreamurl:problem:signature-expired' });
    expect((await app.request(await signed({ prompt, seed: 9, exp: past }), { method: 'HEAD' })).status).toBe(403);
    expect(await gpuCalls(prompt)).toHaveLength(0);

    expect((await app.request(await signed({ prompt, seed: 9 }))).status).toBe(200);
    const stored = await app.request(await signed({ prompt, seed: 9, exp: past }));
    expect(stored.status).toBe(200);
    expect(stored.headers.get('Cache-Status')).toMatch(/^dreamurl; hit/);
    expect(await gpuCalls(prompt)).toHaveLength(1);
  });

  it('answers HEAD of an unsigned miss with 403 too, since GET would be refused', async () => {
    const prompt = uniquePrompt('a headless lighthouse');
    expect((await app.request(imagesPath({ prompt }), { method: 'HEAD' })).status).toBe(403);
  });
});
