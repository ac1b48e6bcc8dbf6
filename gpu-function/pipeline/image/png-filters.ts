// PNG scanline filters (PNG spec, W3C Recommendation 2003 / RFC 2083, section 9 "Filtering").
// Each output row is the filter type byte followed by the filtered bytes; `bpp` is the number of
// bytes per complete pixel (3 for RGB8). The encoder picks one of these; see encode-png.ts for
// the measurements behind the default.

export const PNG_FILTER_TYPES = { none: 0, sub: 1, up: 2, average: 3, paeth: 4 } as const;
/** A fixed filter for every row, or `adaptive`: per row, the filter with the least sum of |bytes| (spec 12.8). */
export type PngFilter = keyof typeof PNG_FILTER_TYPES | 'adaptive';

/**
 * Filters all rows of `pixels` (height rows of `stride` bytes) into one buffer of
 * height × (1 + stride) bytes, ready for zlib.
 */
export function filterScanlines(pixels: Uint8Array, stride: number, height: number, bpp: number, filter: PngFilter): Uint8Array {
  const out = new Uint8Array(height * (stride + 1));
  const scratch = filter === 'adaptive' ? new Uint8Array(stride) : null;
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const prior = y === 0 ? -1 : row - stride;
    const target = y * (stride + 1) + 1;
    if (filter !== 'adaptive') {
      const type = PNG_FILTER_TYPES[filter];
      out[target - 1] = type;
      filterRow(type, pixels, row, prior, stride, bpp, out, target);
      continue;
    }
    let bestType = 0;
    let bestCost = Infinity;
    for (let type = 0; type <= 4; type++) {
      filterRow(type, pixels, row, prior, stride, bpp, scratch!, 0);
      const cost = sumOfAbsolutes(scratch!);
      if (cost < bestCost) {
        bestCost = cost;
        bestType = type;
      }
    }
    out[target - 1] = bestType;
    filterRow(bestType, pixels, row, prior, stride, bpp, out, target);
  }
  return out;
}

/**
 * Filters one row starting at `row` (the row above starts at `prior`, or -1 for the first row).
 * The first pixel of a row has no left neighbour; it is handled before each loop so the hot loops
 * carry no bounds branches (this is most of the encoder's JavaScript time).
 */
function filterRow(
  type: number,
  px: Uint8Array,
  row: number,
  prior: number,
  stride: number,
  bpp: number,
  out: Uint8Array,
  at: number,
): void {
  const first = Math.min(bpp, stride);
  if (type === 0 || (type === 2 && prior < 0)) {
    out.set(px.subarray(row, row + stride), at);
  } else if (type === 1) {
    for (let i = 0; i < first; i++) out[at + i] = px[row + i]!;
    for (let i = first; i < stride; i++) out[at + i] = px[row + i]! - px[row + i - bpp]!;
  } else if (type === 2) {
    for (let i = 0; i < stride; i++) out[at + i] = px[row + i]! - px[prior + i]!;
  } else if (type === 3 && prior < 0) {
    for (let i = 0; i < first; i++) out[at + i] = px[row + i]!;
    for (let i = first; i < stride; i++) out[at + i] = px[row + i]! - (px[row + i - bpp]! >>> 1);
  } else if (type === 3) {
    for (let i = 0; i < first; i++) out[at + i] = px[row + i]! - (px[prior + i]! >>> 1);
    for (let i = first; i < stride; i++) out[at + i] = px[row + i]! - ((px[row + i - bpp]! + px[prior + i]!) >>> 1);
  } else if (type === 4 && prior < 0) {
    // With no row above, up = upLeft = 0 and the Paeth predictor is always the left byte (Sub).
    for (let i = 0; i < first; i++) out[at + i] = px[row + i]!;
    for (let i = first; i < stride; i++) out[at + i] = px[row + i]! - px[row + i - bpp]!;
  } else if (type === 4) {
    // With no left neighbour, left = upLeft = 0 and the predictor is the byte above (Up).
    for (let i = 0; i < first; i++) out[at + i] = px[row + i]! - px[prior + i]!;
    for (let i = first; i < stride; i++) {
      out[at + i] = px[row + i]! - paethPredictor(px[row + i - bpp]!, px[prior + i]!, px[prior + i - bpp]!);
    }
  } else {
    throw new RangeError(`unknown PNG filter type ${type}`);
  }
}

/** The Paeth predictor (spec 9.4): the neighbour closest to left + up − upLeft, ties in that order. */
function paethPredictor(a: number, b: number, c: number): number {
  // p − a = b − c, p − b = a − c, p − c = a + b − 2c.
  const pa = Math.abs(b - c);
  const pb = Math.abs(a - c);
  const pc = Math.abs(a + b - 2 * c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

/** The spec's heuristic cost: filtered bytes read as signed, summed by magnitude. */
function sumOfAbsolutes(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    sum += b < 128 ? b : 256 - b;
  }
  return sum;
}
