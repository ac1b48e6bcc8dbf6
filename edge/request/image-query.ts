// Reads `GET /v1/images?…` into the resolved request: strict query-string parsing (query-string.ts),
// then the one zod schema — field syntax and the wire's absolute bounds, then the chosen model
// profile's limits (the contract's limitProblems), then its defaults. Every problem with the query
// becomes one 400 listing each bad parameter. Built once per configuration: `model` names and limits
// come from MODELS.
import { z } from 'zod';
import {
  limitProblems,
  MAX_GUIDANCE,
  MAX_IMAGE_SIDE,
  MAX_PROMPT_LENGTH,
  MAX_SEED,
  MAX_STEPS,
  paramErrorsFrom,
  type ResolvedGeneration,
  SCHEDULER_NAMES,
} from '../../contract';
import type { ModelProfile } from '../config';
import { invalidParameters } from '../problems';
import { parseQueryString } from './query-string';

/**
 * The resolved request: the contract's ResolvedGeneration (every input that changes pixels, the
 * profile's defaults filled in) and the profile it is for. The content key hashes it; without `model`
 * it is the body the GPU function receives.
 */
export interface ImageRequest extends ResolvedGeneration {
  readonly model: ModelProfile;
}

export type UnseededImageRequest = Omit<ImageRequest, 'seed'>;

/** What the query said about the seed: a number, nothing (derive one), or `random`. */
export type SeedChoice = number | 'derived' | 'random';

export interface ImageQuery {
  readonly request: UnseededImageRequest;
  readonly seed: SeedChoice;
  readonly sig: string | undefined;
  /** `exp`: Unix seconds after which the signature no longer lets the URL generate. */
  readonly expiresAt: number | undefined;
  /** The decoded parameters as given, `sig` left out: what a URL signature covers. */
  readonly signed: ReadonlyMap<string, string>;
}

export type ImageQueryReader = (search: string) => ImageQuery;

/** The last second `exp` can name: 9999-12-31T23:59:59Z. */
const MAX_EXPIRY = 253_402_300_799;

/** How the schema's issues name parameters: an unknown one is refused, never ignored. */
const QUERY_PARAM_NAMES = { unknown: 'is not a parameter of this API', whole: 'query' };

export function createImageQueryReader(models: readonly ModelProfile[], fallback: ModelProfile): ImageQueryReader {
  const schema = imageQuerySchema(models, fallback);
  return function readImageQuery(search) {
    const raw = parseQueryString(search);
    if (!raw.ok) throw invalidParameters(raw.errors);
    const parsed = schema.safeParse(Object.fromEntries(raw.query));
    if (!parsed.success) throw invalidParameters(paramErrorsFrom(parsed.error, QUERY_PARAM_NAMES));
    const signed = new Map([...raw.query].filter(([name]) => name !== 'sig'));
    return { ...parsed.data, signed };
  };
}

/** The query's parameters, each its own zod schema (also what GET /openapi.json describes them from). */
export function imageQueryFields(models: readonly ModelProfile[]) {
  const names = models.map((m) => m.name) as [string, ...string[]];
  return {
    prompt: promptText(1).meta({ description: 'What to picture (NFC, white space collapsed).', pattern: NO_CONTROL }),
    negative_prompt: promptText(0).optional().meta({ description: 'What to keep out of it.', pattern: NO_CONTROL }),
    seed: seedText.optional().meta({
      description: 'The noise seed, or `random` for a redirect to a new picture; left out, one derived from the rest.',
    }),
    steps: integerText(1, MAX_STEPS).optional().meta({ description: 'Denoising steps (at most the model\'s max_steps).' }),
    guidance: decimalText(0, MAX_GUIDANCE).optional().meta({ description: 'Classifier-free guidance scale.' }),
    width: integerText(1, MAX_IMAGE_SIDE).optional().meta({ description: "Pixels, within the model's limits." }),
    height: integerText(1, MAX_IMAGE_SIDE).optional().meta({ description: "Pixels, within the model's limits." }),
    scheduler: z
      .enum(SCHEDULER_NAMES, `must be one of ${SCHEDULER_NAMES.join(', ')}`)
      .optional()
      .meta({ description: 'The diffusers scheduler, configured from the model\'s own scheduler config.' }),
    model: z.enum(names, `must be one of ${names.join(', ')}`).optional().meta({ description: 'Which model (see x-models).' }),
    sig: z
      .string()
      .max(256, 'is too long')
      .optional()
      .meta({ description: 'The URL signature, where URL_SIGNING_KEY makes generating need one (docs/edge-api.md).' }),
    exp: integerText(0, MAX_EXPIRY)
      .optional()
      .meta({ description: 'Unix seconds after which the signature no longer lets the URL generate (signed like the rest).' }),
  };
}

function imageQuerySchema(models: readonly ModelProfile[], fallback: ModelProfile) {
  const profileFor = (name: string | undefined) => models.find((m) => m.name === name) ?? fallback;
  return z
    .strictObject(imageQueryFields(models))
    .transform((q, ctx): Omit<ImageQuery, 'signed'> => {
      // Runs only once every field is valid on its own: then the chosen model's limits, which narrow
      // the contract's absolute bounds checked above, and its defaults. Defaults are resolved here,
      // before anything is hashed, so explicit defaults share a key.
      const model = profileFor(q.model);
      const d = model.defaults;
      for (const { param, message } of limitProblems(q, model.limits, d)) {
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
        expiresAt: q.exp,
      };
    });
}

// Prompt text is made canonical before it is validated, hashed and sent: Unicode NFC (UAX #15) so
// precomposed and combining spellings are one prompt, whitespace runs collapsed to one space and
// trimmed, so spacing differences that the CLIP tokenizer ignores anyway do not make a new key. C0
// and C1 control characters (including NUL, tab, CR and LF) are refused, not normalised.
const CONTROL = /\p{Cc}/u;
/** The same rule as a JSON Schema pattern (ECMA-262 with the u flag). */
const NO_CONTROL = '^\\P{Cc}*$';

export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

export function normalizePromptText(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

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

// Numbers are read strictly: plain decimal digits only. Number("1e3"), Number(" 7 "), Number("0x10")
// and parseInt("1.5") all "work" in JavaScript, so they are never called on raw text: a URL that does
// not spell a number plainly is an error, not a guess.
const INTEGER = /^-?[0-9]{1,16}$/;
const DECIMAL = /^-?(?:[0-9]{1,16}(?:\.[0-9]{0,16})?|\.[0-9]{1,16})$/;

/** A whole number written in digits, within [min, max]. */
function integerText(min: number, max: number) {
  return z
    .string()
    .regex(INTEGER, 'must be a whole number written in digits')
    .transform(Number)
    .pipe(z.int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** A decimal number like `7`, `7.5` or `.5` (no exponent, no sign other than "-"), within [min, max]. */
function decimalText(min: number, max: number) {
  return z
    .string()
    .regex(DECIMAL, 'must be a decimal number written like 7.5')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

const seedText = z.string().transform((text, ctx): 'random' | number => {
  if (text === 'random') return 'random';
  const parsed = integerText(0, MAX_SEED).safeParse(text);
  if (parsed.success) return parsed.data;
  ctx.addIssue({ code: 'custom', message: `must be a whole number from 0 to ${MAX_SEED}, or "random"` });
  return z.NEVER;
});
