// The wire between the edge and the GPU function: the bodies of `POST /v1/generate` and
// `POST /v1/tokenize`, scheduler names, absolute bounds and headers, and the one resolved request
// both sides deal in. Both services import it, so the two cannot drift; zod and web APIs are its only
// dependencies, so it bundles into the Worker as well as into Node.
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

/**
 * `POST /v1/generate` body. Missing optional fields take the model's defaults. `prompt` may be "": an
 * unconditional picture, as diffusers makes for `prompt=""` (the edge's own query still requires one).
 */
export const generateRequestSchema = z.strictObject({
  prompt: z.string().max(MAX_PROMPT_LENGTH),
  negative_prompt: z.string().max(MAX_PROMPT_LENGTH).optional(),
  seed: z.int().min(0).max(MAX_SEED),
  steps: z.int().min(1).max(MAX_STEPS).optional(),
  guidance: z.number().min(0).max(MAX_GUIDANCE).optional(),
  width: imageSide.optional(),
  height: imageSide.optional(),
  scheduler: z.enum(SCHEDULER_NAMES).optional(),
});
export type GenerateRequest = z.infer<typeof generateRequestSchema>;

/**
 * A request with every default resolved: the wire body with no field left out (`negative_prompt` is ""
 * when none was given, diffusers' unconditional prompt). The edge hashes it into the content key and
 * sends it; the GPU function resolves a body into it and the pipeline makes one picture from it.
 */
export type ResolvedGeneration = Readonly<Required<GenerateRequest>>;

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

/** Response headers of `POST /v1/generate`. */
export const HEADERS = Object.freeze({
  seed: 'X-Seed',
  /** `<id>@<revision>` of the model that made the picture. */
  model: 'X-Model',
  serverTiming: 'Server-Timing',
  /** Sent by the edge: the milliseconds it will still wait, so the GPU function drops work nobody awaits. */
  requestTimeout: 'X-Request-Timeout-Ms',
});
