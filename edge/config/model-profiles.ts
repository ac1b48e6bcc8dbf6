// The MODELS setting: which models the edge offers, the commit each must come from, and their
// defaults and limits. A profile's limits may only narrow the wire contract's absolute bounds, so
// the edge never forwards a request the GPU function would reject.
import { z } from 'zod';
import { modelDefaultsSchema, modelLimitsSchema, profileProblems } from '../../contract';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const modelProfileSchema = z
  .strictObject({
    /** What `model=` selects in the API. */
    name: z.string().regex(NAME, 'lower-case letters, digits, ".", "_" and "-", at most 64'),
    /** Hub repo id, or the folder name of a local model (what the GPU function reports as id). */
    repo: z.string().min(1),
    /** The commit sha (or `local-<fingerprint>`) every picture of this profile must come from. */
    revision: z.string().min(1),
    default: z.literal(true).optional(),
    defaults: modelDefaultsSchema,
    limits: modelLimitsSchema,
    /** Another GPU function for this model; GPU_FUNCTION_URL when absent. */
    gpu_function_url: z.url({ protocol: /^https?$/ }).optional(),
  })
  .superRefine((profile, ctx) => {
    for (const { field, message } of profileProblems(profile)) {
      ctx.addIssue({ code: 'custom', path: field.split('.'), message });
    }
  });

export type ModelProfile = Readonly<z.infer<typeof modelProfileSchema>>;

/** The MODELS value: a JSON array (a string from `--var` or an env variable, or a TOML array). */
export const modelProfilesSchema = z
  .preprocess(parseJsonString, z.array(modelProfileSchema).min(1))
  .superRefine((profiles, ctx) => {
    const names = new Set<string>();
    for (const p of profiles) {
      if (names.has(p.name)) ctx.addIssue({ code: 'custom', message: `duplicate model name "${p.name}"` });
      names.add(p.name);
    }
    const defaults = profiles.filter((p) => p.default === true).length;
    if (defaults > 1 || (defaults === 0 && profiles.length > 1)) {
      ctx.addIssue({ code: 'custom', message: 'exactly one profile must have "default": true (or give only one)' });
    }
  });

/** The profile `model=` falls back to: the one marked default, or the only one. */
export function defaultProfile(profiles: readonly ModelProfile[]): ModelProfile {
  const chosen = profiles.find((p) => p.default === true) ?? profiles[0];
  if (chosen === undefined) throw new Error('no model profiles');
  return chosen;
}

/** `<repo>@<revision>`: exactly what the GPU function must send as X-Model for this profile. */
export function expectedModelHeader(profile: ModelProfile): string {
  return `${profile.repo}@${profile.revision}`;
}

function parseJsonString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value; // the array schema then reports "expected array"
  }
}
