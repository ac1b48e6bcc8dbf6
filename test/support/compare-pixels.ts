// How far a picture is from a reference, for the reference-image tests (SD and SDXL): the largest
// per-value difference and how many RGB values differ at all.

export interface PixelDifference {
  readonly maxDiff: number;
  readonly differing: number;
}

export function comparePixels(actual: Uint8Array, expected: Uint8Array): PixelDifference {
  if (actual.length !== expected.length) throw new RangeError(`${actual.length} values vs ${expected.length}`);
  let maxDiff = 0;
  let differing = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (diff > 0) differing += 1;
    if (diff > maxDiff) maxDiff = diff;
  }
  return { maxDiff, differing };
}
