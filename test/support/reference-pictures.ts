// The reference pictures the pipeline is checked against (test/fixtures/tiny-sd-refs, tiny-sdxl-refs:
// made by diffusers' own loops on the fixtures' weights, see test/fixtures/tools): the request each
// manifest entry describes, the comparison, and the check that a generated picture matches its
// reference within given bounds. Used by the SD and SDXL reference-image tests and the SDXL e2e test.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ResolvedGeneration, SchedulerName } from '../../contract';
import type { BatchImages } from '../../gpu-function/pipeline/types';
import { decodePng } from './decode-png';

/** A manifest entry's request, in the API's names; no negative_prompt means diffusers' None. */
export interface ReferenceRequest {
  readonly prompt: string;
  readonly negative_prompt?: string;
  readonly seed: number;
  readonly steps: number;
  readonly guidance: number;
  readonly width: number;
  readonly height: number;
  readonly scheduler: SchedulerName;
}

/** What every manifest entry has; each manifest adds its own fields (timesteps, add_time_ids, …). */
export interface ReferencePicture {
  readonly request: ReferenceRequest;
  /** The picture's file name in the manifest's folder. */
  readonly png: string;
}

export async function readReferenceManifest<Entry extends ReferencePicture>(dir: string): Promise<Entry[]> {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Entry[];
}

/** The request as the pipeline takes it ("" for a missing negative prompt, as the API resolves it). */
export function resolvedReference(
  request: ReferenceRequest,
  negative_prompt = request.negative_prompt ?? '',
): ResolvedGeneration {
  return { ...request, negative_prompt };
}

export interface PixelDifference {
  readonly maxDiff: number;
  readonly differing: number;
}

/** The largest per-value difference and how many RGB values differ at all. */
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

export interface ReferenceBounds {
  /** The largest difference of any RGB value, in levels of 255. */
  readonly maxDiff: number;
  /** The largest share of RGB values that may differ at all. */
  readonly maxShare: number;
}

/** Generates the entry's picture alone and checks it against the reference in `dir`. */
export async function expectMatchesReference(
  pipeline: { generate(batch: readonly ResolvedGeneration[]): Promise<BatchImages> },
  dir: string,
  entry: ReferencePicture,
  bounds: ReferenceBounds,
): Promise<void> {
  const [image] = await pipeline.generate([resolvedReference(entry.request)]);
  const reference = decodePng(new Uint8Array(await readFile(join(dir, entry.png))));
  expect([image!.width, image!.height]).toEqual([reference.width, reference.height]);
  const { maxDiff, differing } = comparePixels(image!.pixels, reference.rgb);
  expect(maxDiff, `largest difference from ${entry.png}`).toBeLessThanOrEqual(bounds.maxDiff);
  const share = differing / reference.rgb.length;
  expect(share, `share of values that differ from ${entry.png}`).toBeLessThanOrEqual(bounds.maxShare);
}
