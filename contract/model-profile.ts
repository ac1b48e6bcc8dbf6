// A model's profile: the defaults a request's missing fields take and the limits it must keep, spelled
// one way wherever it appears (the edge's MODELS, a model folder's dreamurl.json, the GPU function's
// `GET /v1/model` and its MIN_SIDE … variables), with the checks both services run: of a profile
// (limits that admit a size, defaults within them) and of a request against the limits, so the edge
// refuses with a 400 exactly what the GPU function would. Besides the sides and steps, the limits bound
// what a request costs: its pixels (`max_pixels`, width × height — memory grows with them) and its work
// (`max_pixel_steps`, width × height × steps — time grows with it), since `max_side` alone lets
// 1024 × 1024 × 150 steps through.
import { z } from 'zod';
import type { ParamError } from './problem';
import {
  IMAGE_SIDE_MULTIPLE,
  MAX_GUIDANCE,
  MAX_IMAGE_SIDE,
  MAX_STEPS,
  type ResolvedGeneration,
  SCHEDULER_NAMES,
} from './wire';

const side = z.int().min(IMAGE_SIDE_MULTIPLE).max(MAX_IMAGE_SIDE);
const SMALLEST_PICTURE = IMAGE_SIDE_MULTIPLE ** 2;
const LARGEST_PICTURE = MAX_IMAGE_SIDE ** 2;

/** Limits a model narrows the wire's absolute bounds to. */
export const modelLimitsSchema = z.strictObject({
  min_side: side,
  max_side: side,
  /** Width and height must be multiples of this (8 × what the UNet's downsampling needs). */
  side_multiple: side,
  max_steps: z.int().min(1).max(MAX_STEPS),
  /** Most pixels of one picture, width × height. Absent: max_side² (nothing beyond the sides). */
  max_pixels: z.int().min(SMALLEST_PICTURE).max(LARGEST_PICTURE).optional(),
  /** Most work of one request, width × height × steps. Absent: max_pixels × max_steps. */
  max_pixel_steps: z.int().min(SMALLEST_PICTURE).max(LARGEST_PICTURE * MAX_STEPS).optional(),
});
export type ModelLimits = Readonly<z.infer<typeof modelLimitsSchema>>;

/** The cost limits in force: those a profile gives, else what its sides and steps allow anyway. */
export function costLimits(limits: ModelLimits): { readonly maxPixels: number; readonly maxPixelSteps: number } {
  const maxPixels = limits.max_pixels ?? limits.max_side ** 2;
  return { maxPixels, maxPixelSteps: limits.max_pixel_steps ?? maxPixels * limits.max_steps };
}

/** What a request's missing fields take. */
export const modelDefaultsSchema = z.strictObject({
  steps: z.int().min(1).max(MAX_STEPS),
  guidance: z.number().min(0).max(MAX_GUIDANCE),
  scheduler: z.enum(SCHEDULER_NAMES),
  width: side,
  height: side,
});
export type ModelDefaults = Readonly<z.infer<typeof modelDefaultsSchema>>;

/** `GET /v1/model`: what the loaded model is and what it accepts (members added later are ignored). */
export const modelInfoSchema = z.object({
  /** `<id>@<revision>`, exactly the `X-Model` header of every picture. */
  model: z.string(),
  /** Hub repo id, or the folder name for a local model. */
  id: z.string(),
  /** Hub commit sha, or `local-<fingerprint>` for a local folder. */
  revision: z.string(),
  defaults: z.object(modelDefaultsSchema.shape),
  limits: z.object(modelLimitsSchema.shape),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;

/** A field of a profile, as `<section>.<name>`. */
export type ProfileField = `limits.${keyof ModelLimits}` | `defaults.${keyof ModelDefaults}`;

export interface ProfileProblem {
  readonly field: ProfileField;
  /** Names other fields by `nameOf` (see profileProblems). */
  readonly message: string;
}

/**
 * Why a profile cannot serve: limits that admit no size, or defaults its own limits refuse. `nameOf`
 * spells the fields a message mentions: the profile's names by default, the GPU function's
 * environment variables there.
 */
export function profileProblems(
  profile: { readonly limits: ModelLimits; readonly defaults: Pick<ModelDefaults, 'steps' | 'width' | 'height'> },
  nameOf: (field: ProfileField) => string = (field) => field.slice(field.indexOf('.') + 1),
): ProfileProblem[] {
  const { limits: l, defaults: d } = profile;
  const problems: ProfileProblem[] = [];
  const add = (field: ProfileField, message: string) => problems.push({ field, message });
  const [min, max, multiple] = [nameOf('limits.min_side'), nameOf('limits.max_side'), nameOf('limits.side_multiple')];
  if (l.side_multiple % IMAGE_SIDE_MULTIPLE !== 0) {
    add('limits.side_multiple', `must be a multiple of ${IMAGE_SIDE_MULTIPLE} (the VAE downsamples by 8)`);
  }
  if (l.min_side > l.max_side) add('limits.min_side', `must not exceed ${max}`);
  if (l.min_side % l.side_multiple !== 0) add('limits.min_side', `must be a multiple of ${multiple}`);
  if (l.max_side % l.side_multiple !== 0) add('limits.max_side', `must be a multiple of ${multiple}`);
  for (const name of ['width', 'height'] as const) {
    const value = d[name];
    if (value < l.min_side || value > l.max_side || value % l.side_multiple !== 0) {
      add(`defaults.${name}`, `must lie within ${min}…${max} and be a multiple of ${multiple}`);
    }
  }
  if (d.steps > l.max_steps) add('defaults.steps', `must not exceed ${nameOf('limits.max_steps')}`);
  const smallest = l.min_side ** 2;
  if (l.max_pixels !== undefined && l.max_pixels < smallest) {
    add('limits.max_pixels', `must admit the smallest picture, ${min}² = ${smallest}`);
  }
  if (l.max_pixel_steps !== undefined && l.max_pixel_steps < smallest) {
    add('limits.max_pixel_steps', `must admit one step of the smallest picture, ${min}² = ${smallest}`);
  }
  const { maxPixels, maxPixelSteps } = costLimits(l);
  if (d.width * d.height > maxPixels) {
    add('defaults.width', `width × height must not exceed ${nameOf('limits.max_pixels')}`);
  } else if (d.width * d.height * d.steps > maxPixelSteps) {
    add('defaults.steps', `width × height × steps must not exceed ${nameOf('limits.max_pixel_steps')}`);
  }
  return problems;
}

/**
 * A request's size and steps against a model's limits: one entry per field out of bounds, empty when
 * it fits. A field left out takes the model's default. When every field is within its own bounds, the
 * picture's cost (the request with its defaults) against max_pixels, then max_pixel_steps: one entry
 * whose `param` names the fields of the product ("width,height" or "width,height,steps").
 */
export function limitProblems(
  request: Partial<Pick<ResolvedGeneration, 'width' | 'height' | 'steps'>>,
  limits: ModelLimits,
  defaults: Pick<ModelDefaults, 'width' | 'height' | 'steps'>,
): ParamError[] {
  const problems: ParamError[] = [];
  for (const param of ['width', 'height'] as const) {
    const value = request[param];
    if (value === undefined) continue;
    if (value < limits.min_side || value > limits.max_side) {
      problems.push({ param, message: `must be between ${limits.min_side} and ${limits.max_side} for this model` });
    } else if (value % limits.side_multiple !== 0) {
      problems.push({ param, message: `must be a multiple of ${limits.side_multiple}` });
    }
  }
  if (request.steps !== undefined && request.steps > limits.max_steps) {
    problems.push({ param: 'steps', message: `must be at most ${limits.max_steps} for this model` });
  }
  if (problems.length === 0) {
    const { width = defaults.width, height = defaults.height, steps = defaults.steps } = request;
    const { maxPixels, maxPixelSteps } = costLimits(limits);
    if (width * height > maxPixels) {
      problems.push({
        param: 'width,height',
        message: `width × height must be at most ${maxPixels} pixels for this model (max_pixels); ${width} × ${height} is ${width * height}`,
      });
    } else if (width * height * steps > maxPixelSteps) {
      problems.push({
        param: 'width,height,steps',
        message:
          `width × height × steps must be at most ${maxPixelSteps} for this model (max_pixel_steps); ` +
          `${width} × ${height} × ${steps} is ${width * height * steps}`,
      });
    }
  }
  return problems;
}
