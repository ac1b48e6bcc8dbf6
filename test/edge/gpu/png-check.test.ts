// The PNG gate in front of storage, on a known-good 1×1 PNG (68 bytes: IHDR, one IDAT, IEND; chunk
// CRCs checked with Python's zlib.crc32) and damaged copies of it.
import { describe, expect, it } from 'vitest';
import { checkPng, crc32 } from '../../../edge/generation/png-check';

const ONE_BY_ONE = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII='),
  (c) => c.charCodeAt(0),
);

function damaged(edit: (bytes: Uint8Array) => void): Uint8Array {
  const copy = Uint8Array.from(ONE_BY_ONE);
  edit(copy);
  return copy;
}

describe('checkPng', () => {
  it('accepts a complete PNG of the expected size', () => {
    expect(checkPng(ONE_BY_ONE, 1, 1)).toEqual({ ok: true });
  });

  it.each([
    ['another size', ONE_BY_ONE, 2, 1, 'size 1×1, expected 2×1'],
    ['no bytes', new Uint8Array(0), 1, 1, 'not a PNG (bad signature)'],
    ['HTML', new TextEncoder().encode('<html></html>'), 1, 1, 'not a PNG (bad signature)'],
    ['the signature only', ONE_BY_ONE.subarray(0, 8), 1, 1, 'no IHDR'],
    ['a cut in IDAT', ONE_BY_ONE.subarray(0, 50), 1, 1, 'truncated in chunk IDAT'],
    ['IEND missing', ONE_BY_ONE.subarray(0, 56), 1, 1, 'truncated (no IEND)'],
    ['a flipped bit in IDAT', damaged((b) => void (b[45] = (b[45] ?? 0) ^ 1)), 1, 1, 'CRC mismatch in chunk IDAT'],
    ['a forged width (IHDR CRC no longer matches)', damaged((b) => void (b[19] = 2)), 2, 1, 'CRC mismatch in chunk IHDR'],
    ['bytes after IEND', Uint8Array.of(...ONE_BY_ONE, 0), 1, 1, 'bytes after IEND'],
  ])('refuses %s', (_label, bytes, width, height, reason) => {
    expect(checkPng(bytes, width, height)).toEqual({ ok: false, reason });
  });
});

describe('crc32', () => {
  it('matches zlib.crc32 (PNG spec Annex D)', () => {
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
    expect(crc32(ONE_BY_ONE.subarray(12, 29))).toBe(0xb51c0c02); // "IHDR" + its 13 data bytes
  });
});
