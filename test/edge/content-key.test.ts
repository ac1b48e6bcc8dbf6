// One URL meaning is one key: spellings that mean the same picture share a key, anything that
// changes pixels gets another. Keys are read from the ETag of HEAD requests, which never generate.
import { describe, expect, it } from 'vitest';
import { edgeApp } from './support/edge-app';

const app = edgeApp();

async function keyOf(query: string): Promise<string> {
  const res = await app.request(`/v1/images?${query}`, { method: 'HEAD' });
  expect(res.status, query).toBe(200);
  return (res.headers.get('ETag') ?? '').slice(1, -1);
}

async function seedOf(query: string): Promise<string | null> {
  const res = await app.request(`/v1/images?${query}`, { method: 'HEAD' });
  return res.headers.get('X-Seed');
}

describe('the content key', () => {
  it('is sha256 of the canonical JSON of the resolved request (pinned; computed with Python hashlib)', async () => {
    // hashlib.sha256(b'{"guidance":7.5,"height":64,"model":"tiny-sd","negative_prompt":"","pipeline_version":1,'
    //   b'"prompt":"a lighthouse at dusk","repo":"tiny-sd","revision":"local-0123456789abcdef",'
    //   b'"scheduler":"pndm","seed":42,"steps":4,"width":64}').hexdigest()
    expect(await keyOf('prompt=a+lighthouse+at+dusk&seed=42')).toBe('e23ce7468c436f19d3500fb0a1ad9d527d2ab91e62b8f5548219a6c5b3f3b198');
  });

  it.each([
    ['+ and %20 for spaces', 'prompt=a%20lighthouse%20at%20dusk&seed=42'],
    ['whitespace runs and edges', 'prompt=++a+++lighthouse+at+dusk++&seed=42'],
    ['a no-break space and an ideographic space', 'prompt=a%C2%A0lighthouse%E3%80%80at+dusk&seed=42'],
    ['parameter order', 'seed=42&prompt=a+lighthouse+at+dusk'],
    ['explicit defaults', 'prompt=a+lighthouse+at+dusk&seed=42&steps=4&guidance=7.5&width=64&height=64&scheduler=pndm&model=tiny-sd'],
    ['an empty negative prompt', 'prompt=a+lighthouse+at+dusk&seed=42&negative_prompt='],
    ['equal numbers spelled differently', 'prompt=a+lighthouse+at+dusk&seed=042&guidance=7.50&steps=04'],
    ['a signature (not part of the picture)', 'prompt=a+lighthouse+at+dusk&seed=42&sig=abc'],
  ])('is the same for %s', async (_label, query) => {
    expect(await keyOf(query)).toBe(await keyOf('prompt=a+lighthouse+at+dusk&seed=42'));
  });

  it('is the same for composed and decomposed Unicode (NFC)', async () => {
    expect(await keyOf('prompt=caf%C3%A9&seed=1')).toBe(await keyOf('prompt=cafe%CC%81&seed=1'));
  });

  it('is the same with and without the seed a URL without one derives', async () => {
    const seed = await seedOf('prompt=a+lighthouse+at+dusk');
    expect(await keyOf('prompt=a+lighthouse+at+dusk')).toBe(await keyOf(`prompt=a+lighthouse+at+dusk&seed=${seed}`));
  });

  it.each([
    ['prompt', 'prompt=a+lighthouse+at+dawn&seed=42'],
    ['prompt case', 'prompt=A+lighthouse+at+dusk&seed=42'],
    ['negative_prompt', 'prompt=a+lighthouse+at+dusk&seed=42&negative_prompt=fog'],
    ['seed', 'prompt=a+lighthouse+at+dusk&seed=43'],
    ['steps', 'prompt=a+lighthouse+at+dusk&seed=42&steps=5'],
    ['guidance', 'prompt=a+lighthouse+at+dusk&seed=42&guidance=7.6'],
    ['width', 'prompt=a+lighthouse+at+dusk&seed=42&width=72'],
    ['height', 'prompt=a+lighthouse+at+dusk&seed=42&height=72'],
    ['scheduler', 'prompt=a+lighthouse+at+dusk&seed=42&scheduler=ddim'],
    ['model', 'prompt=a+lighthouse+at+dusk&seed=42&model=other&width=64&height=64&steps=4&guidance=7.5&scheduler=pndm'],
  ])('changes with %s', async (_label, query) => {
    expect(await keyOf(query)).not.toBe(await keyOf('prompt=a+lighthouse+at+dusk&seed=42'));
  });

  it('resolves the model’s defaults before hashing: omitted parameters of another model are its own defaults', async () => {
    expect(await keyOf('prompt=a+lighthouse&seed=1&model=other')).toBe(
      await keyOf('prompt=a+lighthouse&seed=1&model=other&steps=10&guidance=5&scheduler=euler&width=96&height=64'),
    );
  });
});

describe('the derived seed', () => {
  it('is the first 4 bytes of sha256 of the canonical JSON without a seed (pinned; Python hashlib)', async () => {
    // int.from_bytes(hashlib.sha256(b'{"guidance":7.5,"height":64,"model":"tiny-sd","negative_prompt":"",'
    //   b'"pipeline_version":1,"prompt":"a lighthouse at dusk","repo":"tiny-sd",'
    //   b'"revision":"local-0123456789abcdef","scheduler":"pndm","steps":4,"width":64}').digest()[:4], 'big')
    expect(await seedOf('prompt=a+lighthouse+at+dusk')).toBe('2762251482');
  });

  it('changes with any other pixel-changing parameter', async () => {
    const base = await seedOf('prompt=a+lighthouse+at+dusk');
    expect(await seedOf('prompt=a+lighthouse+at+dusk&steps=5')).not.toBe(base);
    expect(await seedOf('prompt=a+lighthouse+at+dusk&negative_prompt=fog')).not.toBe(base);
  });
});
