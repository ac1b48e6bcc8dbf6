// The one zod schema of `GET /v1/images`: field syntax and absolute bounds (the wire contract's),
// then the chosen model profile's limits, then its defaults. Built once per configuration because
// `model` names and limits come from MODELS.
import { z } from 'zod';
import {
  limitProblems,
  MAX_GUIDANCE,
  MAX_IMAGE_SIDE,
  MAX_PROMPT_LENGTH,
  MAX_SEED,
  MAX_STEPS,
  SCHEDULER_NAMES,
} from '../../contract';
import type { ModelProfile } from '../config/model-profiles';
import type { SeedChoice, UnseededImageRequest } from './image-request';
import { decimalText, integerText } from './number-text';
import { hasControlCharacter, normalizePromptText } from './prompt-text';

function promptText(minLength: number) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
    .refine((s) => !hasControlCharacter(s), {
      error: 'must not contain control characters (NUL, tab, CR, LF, …)',
      abort: true,
    })
    .transform(normalizePromptText)
    .pipe(
      z
        .string()
        .min(minLength, 'must not be empty or only whitespace')
        .max(MAX_PROMPT_LENGTH, `must be at most ${MAX_PROMPT_LENGTH} characters`),
    );
}

const seedText = z.string().transform((text, ctx): 'random' | number => {
  if (text === 'random') return 'random';
  const parsed = integerText(0, MAX_SEED).safeParse(text);
  if (parsed.success) return parsed.data;
  ctx.addIssue({ code: 'custom', message: `must be a whole number from 0 to ${MAX_SEED}, or "random"` });
  return z.NEVER;
});

export interface ResolvedQuery {
  readonly request: UnseededImageRequest;
  readonly seed: SeedChoice;
  readonly sig: string | undefined;
}

export function createImageQuerySchema(models: readonly ModelProfile[], fallback: ModelProfile) {
  const names = models.map((m) => m.name);
  const profileFor = (name: string | undefined) => models.find((m) => m.name === name) ?? fallback;
  return z
    .strictObject({
      prompt: promptText(1),
      negative_prompt: promptText(0).optional(),
      seed: seedText.optional(),
      steps: integerText(1, MAX_STEPS).optional(),
      guidance: decimalText(0, MAX_GUIDANCE).optional(),
      width: integerText(1, MAX_IMAGE_SIDE).optional(),
      height: integerText(1, MAX_IMAGE_SIDE).optional(),
      scheduler: z.enum(SCHEDULER_NAMES, `must be one of ${SCHEDULER_NAMES.join(', ')}`).optional(),
      model: z.string().refine((n) => names.includes(n), `must be one of ${names.join(', ')}`).optional(),
      sig: z.string().max(256, 'is too long').optional(),
    })
    .transform((q, ctx): ResolvedQuery => {
      // Runs only once every field is valid on its own: then the chosen model's limits, which
      // narrow the contract's absolute bounds checked above, and its defaults. Defaults are resolved
      // here, before anything is hashed, so explicit defaults share a key.
      const model = profileFor(q.model);
      const d = model.defaults;
      for (const { param, message } of limitProblems(q, model.limits)) {
        ctx.addIssue({ code: 'custom', path: [param], message });
      }
      return {
        request: {
          model,
          prompt: q.prompt,
          negative_prompt: q.negative_prompt ?? '',
          steps: q.steps ?? d.steps,
          guidance: q.guidance ?? d.guidance,
          width: q.width ?? d.width,
          height: q.height ?? d.height,
          scheduler: q.scheduler ?? d.scheduler,
        },
        seed: q.seed ?? 'derived',
        sig: q.sig,
      };
    });
}
