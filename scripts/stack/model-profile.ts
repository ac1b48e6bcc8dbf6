// The edge's model profile for the model the GPU function serves, read from the GPU function itself
// (`GET /v1/model`), so the edge pins exactly the `<id>@<revision>` its pictures will carry (X-Model)
// and resolves defaults and checks limits as the GPU function will. The profile's fields are those of
// MODELS (docs/edge-configuration.md); /v1/model's defaults and limits already have that shape.
import { type ModelInfo, modelInfoSchema } from '../../contract';
import { type ModelProfile, modelProfileSchema } from '../../edge/config';

export async function readModelInfo(gpuUrl: string, token: string | undefined): Promise<ModelInfo> {
  const response = await fetch(`${gpuUrl}/v1/model`, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
  if (response.status !== 200) {
    throw new Error(`GET ${gpuUrl}/v1/model answered ${response.status}: ${await response.text()}`);
  }
  return modelInfoSchema.parse(await response.json());
}

/** The one (default) profile of a local stack, checked by the edge's own schema (so a mismatch fails here, not as the edge's 500). */
export function edgeProfileFor(info: ModelInfo): ModelProfile {
  return modelProfileSchema.parse({
    name: profileName(info.id),
    repo: info.id,
    revision: info.revision,
    default: true,
    defaults: info.defaults,
    limits: info.limits,
  });
}

/**
 * A profile name (what `model=` selects; lower-case letters, digits, `.`, `_`, `-`) from the model id:
 * the repo's name without its owner, `CompVis/stable-diffusion-v1-4` → `stable-diffusion-v1-4`,
 * a local folder `tiny-sd` → `tiny-sd`.
 */
export function profileName(id: string): string {
  const base = (id.split('/').pop() ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
  return base === '' ? 'model' : base;
}
