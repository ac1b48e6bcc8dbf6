// The signing functions site owners use (also behind `npm run sign`). Expected signatures were
// computed independently with Python: base64.urlsafe_b64encode(hmac.new(key, msg, sha256).digest()).rstrip(b'=').
import { describe, expect, it } from 'vitest';
import { signedImageUrl, signingInput, signParams, verifySignature } from '../../../edge/request/url-signature';

const KEY = 'test-signing-key';

describe('URL signatures', () => {
  it('signs the sorted, re-encoded parameters under /v1/images (pinned)', async () => {
    expect(signingInput({ prompt: 'a lighthouse at dusk' })).toBe('/v1/images?prompt=a%20lighthouse%20at%20dusk');
    expect(await signParams(KEY, { prompt: 'a lighthouse at dusk' })).toBe('m-TqHV1mBZpeNTp9L_643WLxLDWycJQmGgqxxFU3n6k');
    const params = { steps: 20, seed: 42, prompt: 'café au lait', guidance: '7.5' };
    expect(signingInput(params)).toBe('/v1/images?guidance=7.5&prompt=caf%C3%A9%20au%20lait&seed=42&steps=20');
    expect(await signParams(KEY, params)).toBe('MQdoyGLbZHukJgo9sBsTgw56bFzp2134Pva8BDn1iOk');
  });

  it('leaves sig itself out, and verifies what it signed', async () => {
    const sig = await signParams(KEY, { prompt: 'x', sig: 'ignored' });
    expect(sig).toBe(await signParams(KEY, { prompt: 'x' }));
    expect(await verifySignature(KEY, [['prompt', 'x']], sig)).toBe(true);
  });

  it.each([
    ['another key', 'other-key', { prompt: 'x' }],
    ['a changed value', KEY, { prompt: 'y' }],
    ['an added parameter', KEY, { prompt: 'x', steps: '5' }],
  ])('rejects %s', async (_label, key, params) => {
    const sig = await signParams(KEY, { prompt: 'x' });
    expect(await verifySignature(key, Object.entries(params), sig)).toBe(false);
  });

  it.each(['', 'abc', '!'.repeat(43), 'A'.repeat(44)])('rejects the malformed sig %j', async (sig) => {
    expect(await verifySignature(KEY, [['prompt', 'x']], sig)).toBe(false);
  });

  it('accepts only the canonical spelling: the last character’s 2 unused bits must be zero (RFC 4648 §3.5)', async () => {
    const sig = await signParams(KEY, { prompt: 'a lighthouse at dusk' });
    expect(sig.at(-1)).toBe('k'); // index 36 of the alphabet: low bits 00
    // l, m, n decode to the same 32 bytes (indices 37, 38, 39 differ only in the unused bits).
    const verdicts = await Promise.all(
      ['k', 'l', 'm', 'n'].map((last) => verifySignature(KEY, [['prompt', 'a lighthouse at dusk']], sig.slice(0, -1) + last)),
    );
    expect(verdicts).toEqual([true, false, false, false]);
  });

  it('builds a complete signed URL', async () => {
    const url = await signedImageUrl('https://img.example.com', { prompt: 'a lighthouse at dusk' }, KEY);
    expect(url).toBe('https://img.example.com/v1/images?prompt=a%20lighthouse%20at%20dusk&sig=m-TqHV1mBZpeNTp9L_643WLxLDWycJQmGgqxxFU3n6k');
  });
});
