// The canonical JSON of a request: the text the content key and the derived seed are hashes of.
// Members are written in sorted key order with JSON.stringify's number and string forms
// (ECMA-262 Number::toString: shortest round-trip, so guidance 7.50 and 7.5 are both "7.5").
// It names the model by profile name, repo and pinned revision, and the pipeline version, so a new
// model commit or a pipeline change that moves pixels gives new keys instead of stale pictures.
import { PIPELINE_VERSION } from '../../contract';
import type { UnseededImageRequest } from '../params/image-request';

export function canonicalRequestJson(request: UnseededImageRequest, seed: number | undefined): string {
  const members: Record<string, string | number> = {
    guidance: request.guidance,
    height: request.height,
    model: request.model.name,
    negative_prompt: request.negative_prompt,
    pipeline_version: PIPELINE_VERSION,
    prompt: request.prompt,
    repo: request.model.repo,
    revision: request.model.revision,
    scheduler: request.scheduler,
    steps: request.steps,
    width: request.width,
  };
  if (seed !== undefined) members.seed = seed;
  const sorted = Object.keys(members)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${JSON.stringify(members[name])}`);
  return `{${sorted.join(',')}}`;
}
