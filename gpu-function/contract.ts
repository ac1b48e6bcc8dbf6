// The wire contract between the edge and the gpu-function: request bodies, scheduler names,
// headers and the error shape. The gpu-function owns it; the edge imports it, so the two sides
// cannot drift. zod is its only dependency, so it bundles into the Worker as well as into Node.
import { z } from 'zod';

/**
 * Bumped whenever the pipeline's arithmetic changes pixels for the same request (a scheduler fix,
 * a different rounding). It is part of the edge's content key, so old pictures are not served
 * for requests that would now render differently.
 */
export const PIPELINE_VERSION = 1;

/** Scheduler names of the API, each a diffusers class configured from the model's scheduler config. */
export const SCHEDULER_NAMES = ['pndm', 'ddim', 'euler', 'euler_a', 'dpmpp_2m', 'lcm'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** The diffusers class each name stands for (its `_class_name` in scheduler_config.json). */
export const SCHEDULER_CLASS_NAMES: Readonly<Record<SchedulerName, string>> = Object.freeze({
  pndm: 'PNDMScheduler',
  ddim: 'DDIMScheduler',
  euler: 'EulerDiscreteScheduler',
  euler_a: 'EulerAncestralDiscreteScheduler',
  dpmpp_2m: 'DPMSolverMultistepScheduler',
  lcm: 'LCMScheduler',
});

export const MAX_PROMPT_LENGTH = 1000;
export const MAX_SEED = 4_294_967_295;
/** Absolute bounds; each model narrows them (ModelInfo.limits). */
export const MAX_STEPS = 150;
export const MAX_GUIDANCE = 30;
export const MAX_IMAGE_SIDE = 2048;
export const IMAGE_SIDE_MULTIPLE = 8;

const imageSide = z
  .int()
  .min(IMAGE_SIDE_MULTIPLE)
  .max(MAX_IMAGE_SIDE)
  .refine((v) => v % IMAGE_SIDE_MULTIPLE === 0, { message: `must be a multiple of ${IMAGE_SIDE_MULTIPLE}` });

/** `POST /v1/generate` body. Missing optional fields take the model's defaults. */
export const generateRequestSchema = z.strictObject({
  prompt: z.string().min(1).max(MAX_PROMPT_LENGTH),
  negative_prompt: z.string().max(MAX_PROMPT_LENGTH).optional(),
  seed: z.int().min(0).max(MAX_SEED),
  steps: z.int().min(1).max(MAX_STEPS).optional(),
  guidance: z.number().min(0).max(MAX_GUIDANCE).optional(),
  width: imageSide.optional(),
  height: imageSide.optional(),
  scheduler: z.enum(SCHEDULER_NAMES).optional(),
});
export type GenerateRequest = z.infer<typeof generateRequestSchema>;

/** `POST /v1/tokenize` body and answer. */
export const tokenizeRequestSchema = z.strictObject({
  prompt: z.string().max(MAX_PROMPT_LENGTH),
});
export type TokenizeRequest = z.infer<typeof tokenizeRequestSchema>;

export const tokenizeResponseSchema = z.object({
  input_ids: z.array(z.int()).length(77),
  /** Tokens of the prompt, without the start and end tokens, before truncation. */
  token_count: z.int().min(0),
  /** True when the prompt lost tokens to the 77-token limit. */
  truncated: z.boolean(),
});
export type TokenizeResponse = z.infer<typeof tokenizeResponseSchema>;

/** `GET /v1/model`: what the loaded model is and what it accepts. */
export const modelInfoSchema = z.object({
  /** `<id>@<revision>`, exactly the `X-Model` header of every picture. */
  model: z.string(),
  /** Hub repo id, or the folder name for a local model. */
  id: z.string(),
  /** Hub commit sha, or `local-<fingerprint>` for a local folder. */
  revision: z.string(),
  defaults: z.object({
    steps: z.int(),
    guidance: z.number(),
    width: z.int(),
    height: z.int(),
    scheduler: z.enum(SCHEDULER_NAMES),
  }),
  limits: z.object({
    min_side: z.int(),
    max_side: z.int(),
    /** Width and height must be multiples of this (8 × the UNet's downsampling). */
    side_multiple: z.int(),
    max_steps: z.int(),
  }),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;

/** Response headers of `POST /v1/generate`. */
export const HEADERS = Object.freeze({
  seed: 'X-Seed',
  /** `<id>@<revision>` of the model that made the picture. */
  model: 'X-Model',
  serverTiming: 'Server-Timing',
  /** Sent by the edge: the milliseconds it will still wait, so the GPU function drops work nobody awaits. */
  requestTimeout: 'X-Request-Timeout-Ms',
});

/** RFC 9457 problem details, as both services answer errors. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  errors: z.array(z.object({ param: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Turns a zod error into the `errors` list of a 400 problem. */
export function problemErrorsFrom(error: z.ZodError): { param: string; message: string }[] {
  return error.issues.map((issue) => ({
    param: issue.path.length > 0 ? issue.path.join('.') : (unknownKeyOf(issue) ?? 'body'),
    message: issue.message,
  }));
}

function unknownKeyOf(issue: z.core.$ZodIssue): string | undefined {
  return issue.code === 'unrecognized_keys' ? issue.keys.join(',') : undefined;
}
