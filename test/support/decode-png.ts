// Test helper: decodes a PNG into RGB8 with pngjs (which checks chunk CRCs), so tests can compare
// pixels. Only 8-bit opaque pictures are expected here; anything else is an error, not a guess.
import { PNG } from 'pngjs';

export interface DecodedRgb8 {
  readonly width: number;
  readonly height: number;
  /** Row-major RGB8, width × height × 3 bytes. */
  readonly rgb: Uint8Array;
}

export function decodePng(png: Uint8Array): DecodedRgb8 {
  // pngjs always hands back RGBA8, whatever the file's colour type.
  const { width, height, data } = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    if (data[j + 3] !== 255) throw new Error(`pixel ${i / 3} is not opaque (alpha ${data[j + 3]})`);
    rgb[i] = data[j]!;
    rgb[i + 1] = data[j + 1]!;
    rgb[i + 2] = data[j + 2]!;
  }
  return { width, height, rgb };
}
