// The request stored with each picture, as string metadata. R2 and S3 both cap user metadata at
// 2 KiB, so the scalar fields are always stored and the prompts only when they fit; the content key
// (the object's name) hashes the full request in any case.
import { PIPELINE_VERSION } from '../../contract';
import type { ImageRequest } from '../params/image-request';
import type { ImageMetadata } from './image-store';

const METADATA_BUDGET_BYTES = 2048;

export function imageMetadata(request: ImageRequest): ImageMetadata {
  const scalars: Record<string, string> = {
    model: request.model.name,
    repo: request.model.repo,
    revision: request.model.revision,
    pipeline_version: String(PIPELINE_VERSION),
    seed: String(request.seed),
    steps: String(request.steps),
    guidance: String(request.guidance),
    width: String(request.width),
    height: String(request.height),
    scheduler: request.scheduler,
  };
  const withPrompts = { ...scalars, prompt: request.prompt, negative_prompt: request.negative_prompt };
  return byteSize(withPrompts) <= METADATA_BUDGET_BYTES ? withPrompts : scalars;
}

/** The seed of a stored picture (X-Seed), or undefined for an object written by something else. */
export function seedOf(metadata: ImageMetadata): number | undefined {
  const seed = metadata.seed;
  return seed !== undefined && /^[0-9]{1,10}$/.test(seed) ? Number(seed) : undefined;
}

function byteSize(record: Record<string, string>): number {
  const encoder = new TextEncoder();
  return Object.entries(record).reduce((n, [k, v]) => n + encoder.encode(k).length + encoder.encode(v).length, 0);
}
