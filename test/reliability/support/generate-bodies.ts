// Generated `POST /v1/generate` requests for the GPU function's fuzz test, and the oracle that says
// what the service must answer to each. The model the test runs accepts sides of 32 or 48 (multiples of
// 16), at most 2 steps, and defaults to 32 × 32 with 1 step, so every valid body is cheap to generate.
import fc from 'fast-check';
import { generateRequestSchema, SCHEDULER_NAMES } from '../../../contract';

export const LIMITS = { minSide: 32, maxSide: 48, sideMultiple: 16, maxSteps: 2, defaultSide: 32 } as const;
/** The service's request body limit (gpu-function/server/read-json-body.ts). */
export const MAX_BODY_BYTES = 16 * 1024;

const anyJson = fc.jsonValue({ maxDepth: 3 });
const text = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  fc.constantFrom('', ' ', 'a lighthouse', '\u0000', '\ud800', 'é'.repeat(1000), 'x'.repeat(1001)),
);
const field: Record<string, fc.Arbitrary<unknown>> = {
  prompt: fc.oneof({ arbitrary: text, weight: 8 }, anyJson),
  negative_prompt: fc.oneof({ arbitrary: text, weight: 8 }, anyJson),
  seed: fc.oneof(
    { arbitrary: fc.nat({ max: 2 ** 32 - 1 }), weight: 8 },
    fc.constantFrom(-1, 1.5, 2 ** 32, Number.MAX_SAFE_INTEGER, '7', null, true, 1e308),
  ),
  steps: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 2 }), weight: 8 }, fc.constantFrom(0, 3, 2.5, 151, -1, '2', null, 1e9)),
  guidance: fc.oneof({ arbitrary: fc.double({ min: 0, max: 30, noNaN: true }), weight: 8 }, fc.constantFrom(-1, 30.5, '7.5', null, 1e309, -0)),
  width: fc.oneof({ arbitrary: fc.constantFrom(32, 48), weight: 8 }, fc.integer({ min: -8, max: 2100 }), fc.constantFrom(33.5, '32', 4096)),
  height: fc.oneof({ arbitrary: fc.constantFrom(32, 48), weight: 8 }, fc.integer({ min: -8, max: 2100 }), fc.constantFrom(33.5, '32', 4096)),
  scheduler: fc.oneof({ arbitrary: fc.constantFrom(...SCHEDULER_NAMES), weight: 8 }, fc.constantFrom('PNDM', 'k_lms', '', null, 3)),
};
const FIELDS = Object.keys(field);
const oddKey = fc.constantFrom('__proto__', 'constructor', 'cfg_scale', 'negativePrompt', 'Prompt', '', 'seed ');

/** An object built field by field: mostly plausible, sometimes with a wrong type or an unknown key. */
const objectBody = fc
  .tuple(
    fc.subarray(FIELDS, { minLength: 0 }).chain((names) => fc.tuple(...names.map((name) => field[name]!.map((value) => [name, value] as const)))),
    fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, fc.tuple(oddKey, anyJson)),
    fc.nat({ max: 4 }).map((n) => n === 0),
  )
  .map(([entries, extra, withRequired]) => {
    const body: Record<string, unknown> = {};
    // A fifth of the bodies carry the two required fields for sure, so that about one in twelve is valid.
    if (withRequired) Object.assign(body, { prompt: 'a fuzzed lighthouse', seed: 7 });
    for (const [name, value] of entries) body[name] = value;
    if (extra !== null) Object.defineProperty(body, extra[0], { value: extra[1], enumerable: true, writable: true, configurable: true });
    return JSON.stringify(body);
  });
const rawBody = fc.oneof(
  { arbitrary: anyJson.map((value) => JSON.stringify(value)), weight: 4 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 4 },
  {
    arbitrary: fc.constantFrom('', '{', '{"prompt":"a","seed":1', 'null', '[]', '{"prompt":"a","seed":1}garbage', '\u0000', '{"prompt":"a","seed":1,"seed":2}'),
    weight: 4,
  },
  { arbitrary: fc.nat({ max: 2 }).map((n) => JSON.stringify({ prompt: 'a', seed: 1, negative_prompt: 'z'.repeat(MAX_BODY_BYTES + n) })), weight: 1 },
);
const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 20 },
  fc.constantFrom('application/json; charset=utf-8', 'application/problem+json', 'text/plain', 'application/x-www-form-urlencoded', ''),
);
export const fuzzRequest = fc.record({ body: fc.oneof({ arbitrary: objectBody, weight: 3 }, rawBody), contentType });
export type FuzzRequest = { readonly body: string; readonly contentType: string };

/** The size a valid body asks for, or undefined when the service must refuse it. */
export function expectedPicture({ body, contentType }: FuzzRequest): { width: number; height: number; seed: number } | undefined {
  if (!/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(contentType)) return undefined;
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = generateRequestSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const { width = LIMITS.defaultSide, height = LIMITS.defaultSide, steps = 1, seed } = parsed.data;
  const sideOk = (side: number) => side >= LIMITS.minSide && side <= LIMITS.maxSide && side % LIMITS.sideMultiple === 0;
  if (!sideOk(width) || !sideOk(height) || steps > LIMITS.maxSteps) return undefined;
  return { width, height, seed };
}

/** The status a refused body must get (the checks run in this order in the service). */
export function refusalStatus({ body, contentType }: FuzzRequest): number {
  if (!/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(contentType)) return 415;
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) return 413;
  return 400;
}
