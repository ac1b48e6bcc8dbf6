// The PNG encoder: files decode (with pngjs and, independently, fast-png, both checking CRCs) to
// exactly the pixels that went in, for every filter; the header says RGB8; the reference PNGs
// made by diffusers decode to the manifest's pixel hashes and survive re-encoding unchanged.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { constants, inflateSync } from 'node:zlib';
import { decode as fastPngDecode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PNG_OPTIONS, encodePng, encodePngAsync } from '../../../../gpu-function/pipeline/image/encode-png';
import type { PngFilter } from '../../../../gpu-function/pipeline/image/png-filters';
import { RandomState } from '../../../../gpu-function/pipeline/random/numpy-random-state';
import { decodePng } from '../../../support/decode-png';

const FILTERS: PngFilter[] = ['none', 'sub', 'up', 'average', 'paeth', 'adaptive'];
const refs = new URL('../../../fixtures/tiny-sd-refs/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', refs), 'utf8')) as {
  png: string;
  pixels_sha256: string;
  request: { width: number; height: number };
}[];

/** Pixels that exercise every filter: a smooth gradient, noise, and hard edges (0 ↔ 255 wrap-around). */
function testImage(width: number, height: number, seed: number): Uint8Array {
  const uniform = new RandomState(seed).randomSample(width * height * 3);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        const smooth = (x * 7 + y * 3 + c * 50) % 256;
        rgb[i] = (x + y) % 9 === 0 ? (x % 2) * 255 : (smooth + Math.floor(uniform[i]! * 12)) % 256;
      }
    }
  }
  return rgb;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The filter type byte of each scanline, read by inflating the IDAT chunk. */
function scanlineFilterTypes(png: Uint8Array, width: number, height: number): number[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const idatLength = view.getUint32(33);
  expect(String.fromCharCode(...png.subarray(37, 41))).toBe('IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  expect(raw.length).toBe(height * (1 + width * 3));
  return Array.from({ length: height }, (_, y) => raw[y * (1 + width * 3)]!);
}

function fastPngRgb(png: Uint8Array): { width: number; height: number; channels: number; depth: number; rgb: Uint8Array } {
  const decoded = fastPngDecode(png, { checkCrc: true });
  return { ...decoded, rgb: new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength) };
}

describe('encodePng', () => {
  for (const filter of FILTERS) {
    it(`round-trips pixels exactly with the ${filter} filter`, () => {
      for (const [width, height] of [[1, 1], [2, 3], [17, 5], [64, 48]] as const) {
        const rgb = testImage(width, height, width * 1000 + height);
        const png = encodePng(rgb, width, height, { filter });
        const decoded = decodePng(png);
        expect([decoded.width, decoded.height]).toEqual([width, height]);
        expect(sha256(decoded.rgb)).toBe(sha256(rgb));
      }
    });
  }

  it('round-trips with the defaults and other zlib settings', () => {
    const rgb = testImage(40, 30, 7);
    for (const options of [{}, { level: 9, strategy: constants.Z_DEFAULT_STRATEGY }, { level: 0 }]) {
      expect(sha256(decodePng(encodePng(rgb, 40, 30, options)).rgb)).toBe(sha256(rgb));
    }
  });

  it('gives the same bytes encoded asynchronously (compression on the thread pool) as at once', async () => {
    for (const options of [{}, { filter: 'paeth' as const, level: 6, strategy: constants.Z_DEFAULT_STRATEGY }]) {
      const rgb = testImage(64, 48, 11);
      const sync = encodePng(rgb, 64, 48, options);
      expect(Buffer.from(await encodePngAsync(rgb, 64, 48, options)).equals(Buffer.from(sync))).toBe(true);
    }
    await expect(encodePngAsync(new Uint8Array(12), 2, 3)).rejects.toThrow(/must have 18 bytes, got 12/);
  });

  it('decodes identically with an independent decoder (fast-png, CRCs checked)', () => {
    const rgb = testImage(33, 21, 3);
    for (const filter of FILTERS) {
      const decoded = fastPngRgb(encodePng(rgb, 33, 21, { filter }));
      expect([decoded.width, decoded.height, decoded.channels, decoded.depth]).toEqual([33, 21, 3, 8]);
      expect(sha256(decoded.rgb)).toBe(sha256(rgb));
    }
  });

  it('writes the signature, an RGB8 IHDR, one IDAT and IEND', () => {
    const png = encodePng(testImage(300, 2, 1), 300, 2);
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks: string[] = [];
    for (let at = 8; at < png.length; ) {
      const length = view.getUint32(at);
      chunks.push(String.fromCharCode(...png.subarray(at + 4, at + 8)));
      at += 12 + length;
    }
    expect(chunks).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(view.getUint32(8)).toBe(13);
    // width 300, height 2, bit depth 8, colour type 2 (truecolour), deflate, filter method 0, no interlace
    expect([view.getUint32(16), view.getUint32(20), ...png.subarray(24, 29)]).toEqual([300, 2, 8, 2, 0, 0, 0]);
    // The IEND chunk is fixed: zero length, type, CRC 0xAE426082.
    expect(Array.from(png.subarray(png.length - 12))).toEqual([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
  });

  it('uses the measured defaults: Average filter with zlib run-length coding', () => {
    expect(DEFAULT_PNG_OPTIONS).toEqual({ filter: 'average', level: 1, strategy: constants.Z_RLE });
    expect(scanlineFilterTypes(encodePng(testImage(8, 4, 2), 8, 4), 8, 4)).toEqual([3, 3, 3, 3]);
  });

  it('writes the filter type it was asked for on every row', () => {
    const rgb = testImage(8, 4, 2);
    const fixed = { none: 0, sub: 1, up: 2, average: 3, paeth: 4 } as const;
    for (const [filter, type] of Object.entries(fixed)) {
      expect(scanlineFilterTypes(encodePng(rgb, 8, 4, { filter: filter as PngFilter }), 8, 4)).toEqual([type, type, type, type]);
    }
    // Adaptive picks per row; on a vertical gradient with identical rows, Up (all zeros) wins below the first row.
    const rows = new Uint8Array(8 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let i = 0; i < 24; i++) rows[y * 24 + i] = (i * 37) % 256;
    expect(scanlineFilterTypes(encodePng(rows, 8, 4, { filter: 'adaptive' }), 8, 4).slice(1)).toEqual([2, 2, 2]);
  });

  it('rejects sizes that do not match the data', () => {
    expect(() => encodePng(new Uint8Array(12), 2, 3)).toThrow(/must have 18 bytes, got 12/);
    expect(() => encodePng(new Uint8Array(0), 0, 0)).toThrow(RangeError);
    expect(() => encodePng(new Uint8Array(3), 1.5, 2)).toThrow(RangeError);
  });
});

describe('the reference PNGs of tiny-sd-refs', () => {
  for (const entry of manifest) {
    it(`${entry.png} decodes to the manifest's pixels and survives re-encoding`, () => {
      const decoded = decodePng(readFileSync(new URL(entry.png, refs)));
      expect([decoded.width, decoded.height]).toEqual([entry.request.width, entry.request.height]);
      expect(sha256(decoded.rgb)).toBe(entry.pixels_sha256);
      const reencoded = encodePng(decoded.rgb, decoded.width, decoded.height);
      expect(sha256(decodePng(reencoded).rgb)).toBe(entry.pixels_sha256);
      expect(sha256(fastPngRgb(reencoded).rgb)).toBe(entry.pixels_sha256);
    });
  }
});
