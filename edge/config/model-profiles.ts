// The MODELS setting: which models the edge offers, the commit each must come from, and their
// defaults and limits. A profile's limits may only narrow the wire contract's absolute bounds, so
// the edge never forwards a request the GPU function would reject.
import { z } from 'zod';
import {
  IMAGE_SIDE_MULTIPLE,
  MAX_GUIDANCE,
  MAX_IMAGE_SIDE,
  MAX_STEPS,
  SCHEDULER_NAMES,
} from '../../gpu-function/contract';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const limitsSchema = z
  .strictObject({
    min_side: z.int().min(IMAGE_SIDE_MULTIPLE).max(MAX_IMAGE_SIDE),
    max_side: z.int().min(IMAGE_SIDE_MULTIPLE).max(MAX_IMAGE_SIDE),
    side_multiple: z.int().min(IMAGE_SIDE_MULTIPLE).refine((m) => m % IMAGE_SIDE_MULTIPLE === 0, {
      message: `must be a multiple of ${IMAGE_SIDE_MULTIPLE}`,
    }),
    max_steps: z.int().min(1).max(MAX_STEPS),
  })
  .refine((l) => l.min_side <= l.max_side, { message: 'min_side must not exceed max_side' });

const defaultsSchema = z.strictObject({
  steps: z.int().min(1),
  guidance: z.number().min(0).max(MAX_GUIDANCE),
  scheduler: z.enum(SCHEDULER_NAMES),
  width: z.int(),
  height: z.int(),
});

export const modelProfileSchema = z
  .strictObject({
    /** What `model=` selects in the API. */
    name: z.string().regex(NAME, 'lower-case letters, digits, ".", "_" and "-", at most 64'),
    /** Hub repo id, or the folder name of a local model (what the GPU function reports as id). */
    repo: z.string().min(1),
    /** The commit sha (or `local-<fingerprint>`) every picture of this profile must come from. */
    revision: z.string().min(1),
    default: z.literal(true).optional(),
    defaults: defaultsSchema,
    limits: limitsSchema,
    /** Another GPU function for this model; GPU_FUNCTION_URL when absent. */
    gpu_function_url: z.url({ protocol: /^https?$/ }).optional(),
  })
  .superRefine((p, ctx) => {
    const { defaults: d, limits: l } = p;
    for (const side of ['width', 'height'] as const) {
      if (d[side] < l.min_side || d[side] > l.max_side || d[side] % l.side_multiple !== 0) {
        ctx.addIssue({ code: 'custom', path: ['defaults', side], message: 'must lie within the profile limits' });
      }
    }
    if (d.steps > l.max_steps) ctx.addIssue({ code: 'custom', path: ['defaults', 'steps'], message: 'exceeds max_steps' });
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
