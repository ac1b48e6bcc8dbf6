// Metadata over S3's HTTP headers: what a page author's prompt (any Unicode) becomes on the wire,
// and that it comes back unchanged — from stores that keep headers verbatim, and from AWS, which
// decodes RFC 2047 words on PUT and encodes them again on GET (possibly in the "Q" form).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeS3Metadata, decodeValue, encodeS3Metadata, encodeValue } from '../../edge/node/s3/s3-metadata';

describe('encodeValue', () => {
  it.each([
    ['plain ASCII', 'a lighthouse at dusk'],
    ['digits', '4294967295'],
    ['the empty string', ''],
    ['punctuation', 'pndm; 7.5, "quoted" (x) ?=/'],
  ])('sends %s verbatim', (_label, value) => {
    expect(encodeValue(value)).toBe(value);
  });

  it('encodes non-ASCII as UTF-8 "B" words (pinned: Python base64.b64encode("café".encode()))', () => {
    expect(encodeValue('café')).toBe('=?UTF-8?B?Y2Fmw6k=?=');
  });

  it.each([
    ['a value that looks like an encoded-word', '=?UTF-8?B?Y2Fmw6k=?='],
    ['a leading space (HTTP would trim it)', ' x'],
    ['a trailing space', 'x '],
    ['a Latin-1 character (Node would send it as one raw byte)', 'ß'],
  ])('encodes %s so it survives the trip', (_label, value) => {
    const encoded = encodeValue(value);
    expect(encoded).not.toBe(value);
    expect(decodeValue(encoded)).toBe(value);
  });

  it('splits long values into words of at most 75 characters, never inside a character', () => {
    const value = '東京の灯台🗼'.repeat(40);
    const words = encodeValue(value).split(' ');
    expect(words.length).toBeGreaterThan(1);
    for (const word of words) {
      expect(word.length).toBeLessThanOrEqual(75);
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(word.slice(10, -2), 'base64'))).not.toThrow();
    }
    expect(decodeValue(words.join(' '))).toBe(value);
  });

  it('round-trips any string through printable-ASCII header values', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (value) => {
        const encoded = encodeValue(value);
        expect(encoded).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeValue(encoded)).toBe(value);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeValue', () => {
  it.each([
    ['a "Q" word as AWS may return it', '=?UTF-8?Q?caf=C3=A9_au_lait?=', 'café au lait'],
    ['lower-case charset and encoding', '=?utf-8?b?Y2Fmw6k=?=', 'café'],
    ['RFC 2047 §8: ISO-8859-1 "Q"', '=?ISO-8859-1?Q?Andr=E9?=', 'André'],
    ['RFC 2047 §8: white space between adjacent words is dropped', '=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=', 'ab'],
  ])('decodes %s', (_label, value, expected) => {
    expect(decodeValue(value)).toBe(expected);
  });

  it.each([
    ['text around a word', 'x =?UTF-8?B?Y2Fmw6k=?='],
    ['an unknown charset', '=?X-NOPE?B?Y2Fmw6k=?='],
    ['a malformed Q escape', '=?UTF-8?Q?a=ZZ?='],
    ['a byte that is not UTF-8 (0xFF)', '=?UTF-8?B?/w==?='],
  ])('keeps %s as stored', (_label, value) => {
    expect(decodeValue(value)).toBe(value);
  });
});

describe('metadata records', () => {
  it('encodes and decodes every value, keeping the names', () => {
    const metadata = { prompt: 'Leuchtturm bei Dämmerung', negative_prompt: '', seed: '42' };
    const encoded = encodeS3Metadata(metadata);
    expect(encoded).toEqual({ prompt: '=?UTF-8?B?TGV1Y2h0dHVybSBiZWkgRMOkbW1lcnVuZw==?=', negative_prompt: '', seed: '42' });
    expect(decodeS3Metadata(encoded)).toEqual(metadata);
    expect(decodeS3Metadata(undefined)).toEqual({});
  });
});
