// Property-based fuzzing of `GET /v1/images?…` through the edge app as the Worker builds it
// (edge/worker.ts's createApp + workersDeps, with the test project's R2, Cache API, Durable Objects
// and the GPU stub), with URL signing on: whatever the query, the answer is a 2xx, 3xx or 4xx with a
// well-formed body — a PNG for 200, a Location for 302, RFC 9457 problem+json whose `status` is the
// answer's for 4xx (a 400 listing each bad parameter) — never a 5xx, never a hang. 10,000 queries per
// run, a new seed each run (printed).
//
// Signing keeps the run fast without leaving paths out: a valid query that is not stored yet is a
// cheap 403, unless the property chose to sign it (about 1 in 40), and then it really generates on
// the stub and is stored; later queries for it are hits. So misses, hits, 403s and 400s all occur.
//
// The queries mix parameters that are plausible (numbers near the limits, real scheduler and model
// names, prompts from a small pool so that valid queries are often hits) with hostile text: raw
// bytes as percent escapes (invalid UTF-8 included), malformed escapes, raw `%`, `+`, `=`, `#`,
// control characters, over-long values, unknown and re-cased names, duplicates, empty segments.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { problemSchema, SCHEDULER_NAMES } from '../../../contract';
import { createApp } from '../../../edge/app';
import { parseConfig } from '../../../edge/config';
import { parseQueryString } from '../../../edge/request/query-string';
import { signParams } from '../../../edge/request/url-signature';
import { workersDeps } from '../../../edge/worker';
import { fuzzSeed, seedLine } from '../../support/fuzz-seed';

const RUNS = 10_000;
const SIGNING_KEY = 'fuzz-signing-key, at least 32 bytes long';
const app = createApp(workersDeps(env, parseConfig({ ...(env as unknown as Record<string, unknown>), URL_SIGNING_KEY: SIGNING_KEY })));
/** No answer within this long is a hang (a generation on the stub takes tens of milliseconds). */
const HANG_MS = 15_000;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const enc = encodeURIComponent;
const PROMPTS = ['a lighthouse at dusk', 'fuzzed fox', 'Ünïcödé 灯台', 'a+b', '100% real', 'x'];

/** Any bytes as percent escapes: most are not UTF-8. */
const escapedBytes = fc.uint8Array({ maxLength: 12 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
/** Text as a browser would send it (well-formed UTF-8, percent-encoded). */
const encodedText = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength }).map(enc);
const hostile = fc.oneof(
  escapedBytes,
  fc.string({ maxLength: 16 }), // raw: % & = + # and friends as they come
  fc.constantFrom('%', '%%', '%zz', '%E2%82', '%C3%28', '%ED%A0%80', '%00', '%0D%0A', '%0A', '%7F', '%C2%85', '%EF%BF%BF', '+', '++', '#', '=', '=='),
  fc.nat({ max: 1300 }).map((n) => 'y'.repeat(n)),
  fc.nat({ max: 400 }).map((n) => '%E7%81%AF'.repeat(n)), // 灯 × n, fully escaped
);

const integerish = fc.oneof(
  fc.integer({ min: -3, max: 300 }).map(String),
  fc.constantFrom('', '0', '00064', '1.5', '1e1', '+4', '0x10', 'NaN', 'Infinity', '-0', '4294967295', '4294967296', '99999999999999999999'),
);
const decimalish = fc.oneof(
  fc.double({ min: -2, max: 32, noNaN: true }).map((x) => x.toFixed(x > 10 ? 0 : 2)),
  fc.constantFrom('7.5', '.5', '7.', '7,5', '1e400', '-0', '30', '30.0001', '0'),
);
const plausible: Record<string, fc.Arbitrary<string>> = {
  prompt: fc.oneof({ arbitrary: fc.constantFrom(...PROMPTS.map(enc)), weight: 3 }, encodedText(24), fc.constantFrom('', '+', '%20%E3%80%80')),
  negative_prompt: fc.oneof(fc.constant(''), fc.constantFrom(...PROMPTS.map(enc)), encodedText(12)),
  seed: fc.oneof(fc.constantFrom('1', '2', '42', 'random', 'Random'), integerish),
  steps: fc.oneof(fc.constantFrom('1', '2', '4', '20', '50', '51'), integerish),
  guidance: decimalish,
  width: fc.oneof(fc.constantFrom('32', '64', '96', '128'), integerish),
  height: fc.oneof(fc.constantFrom('32', '64', '96', '128'), integerish),
  scheduler: fc.constantFrom(...SCHEDULER_NAMES, 'PNDM', 'karras', '', 'euler%5Fa'),
  model: fc.constantFrom('tiny-sd', 'other', 'sdxl', '', 'Tiny-SD'),
  sig: fc.oneof(fc.base64String({ minLength: 44, maxLength: 44 }).map((s) => s.slice(0, 43).replaceAll('+', '-').replaceAll('/', '_')), hostile),
};
const NAMES = Object.keys(plausible);
const oddName = fc.oneof(
  fc.constantFrom('Steps', 'PROMPT', '__proto__', 'constructor', 'toString', '', 'x', 'seed[]', 'p%72ompt', '%zz', 'sig%00'),
  fc.string({ maxLength: 8 }).map(enc),
);

const segment = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...NAMES).chain((name) => plausible[name]!.map((value) => `${name}=${value}`)) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...NAMES), hostile).map(([name, value]) => `${name}=${value}`) },
  { weight: 2, arbitrary: fc.tuple(oddName, fc.oneof(hostile, integerish)).map(([name, value]) => `${name}=${value}`) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...NAMES), oddName) }, // a name without "="
  { weight: 1, arbitrary: fc.constant('') }, // "&&"
);
/** Usually starts with a plausible prompt, so that many queries get past the first error. */
const unsignedQuery = fc
  .tuple(fc.option(plausible.prompt!, { freq: 4 }), fc.array(segment, { maxLength: 6 }))
  .map(([prompt, rest]) => [...(prompt === null ? [] : [`prompt=${prompt}`]), ...rest].join('&'));
/** Whether to append a valid signature of the query's parameters (when they can be read at all). */
const query = fc.tuple(unsignedQuery, fc.nat({ max: 39 }).map((n) => n === 0));

async function withSignature(search: string): Promise<string> {
  const parsed = parseQueryString(search);
  if (!parsed.ok || parsed.query.has('sig')) return search;
  return `${search}&sig=${await signParams(SIGNING_KEY, parsed.query)}`;
}

interface Outcome {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: Uint8Array;
  readonly headers: Headers;
}

async function send(search: string): Promise<Outcome> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`http://edge.test/v1/images?${search}`), env, ctx);
  const body = new Uint8Array(await response.arrayBuffer());
  await waitOnExecutionContext(ctx);
  return { status: response.status, contentType: response.headers.get('Content-Type'), body, headers: response.headers };
}

function withinHangLimit<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms: ${what}`)), HANG_MS);
  });
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

/** Throws (with the query) unless the answer is well-formed for its status. */
function checkWellFormed(search: string, { status, contentType, body, headers }: Outcome): void {
  const where = `GET /v1/images?${search.slice(0, 200)} → ${status}`;
  expect(status, where).toBeGreaterThanOrEqual(200);
  expect(status, where).toBeLessThan(500);
  if (status === 200) {
    expect(contentType, where).toBe('image/png');
    expect([...body.subarray(0, 8)], where).toEqual(PNG_SIGNATURE);
    expect(headers.get('ETag'), where).toMatch(/^"[0-9a-f]{64}"$/);
  } else if (status === 302) {
    expect(headers.get('Location'), where).toMatch(/^\/v1\/images\?prompt=/);
    expect(headers.get('Cache-Control'), where).toBe('no-store');
  } else {
    expect(status, where).toBeGreaterThanOrEqual(400);
    expect(contentType, where).toBe('application/problem+json');
    expect(headers.get('Cache-Control'), where).toBe('no-store');
    const problem = problemSchema.parse(JSON.parse(new TextDecoder().decode(body)));
    expect(problem.status, where).toBe(status);
    if (status === 400) {
      expect(problem.errors?.length ?? 0, where).toBeGreaterThan(0);
      for (const error of problem.errors ?? []) expect(error.message.length, where).toBeGreaterThan(0);
    }
  }
}

describe('query fuzzing (property)', () => {
  it(`answers ${RUNS} generated queries with a well-formed 2xx/3xx/4xx, never a 5xx or a hang`, async () => {
    const seed = fuzzSeed((env as unknown as Record<string, unknown>).FUZZ_SEED);
    console.log(seedLine('edge query fuzzing (workerd)', seed, RUNS));
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(query, async ([unsigned, sign]) => {
        const search = sign ? await withSignature(unsigned) : unsigned;
        const outcome = await withinHangLimit(send(search), search);
        checkWellFormed(search, outcome);
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed, endOnFailure: true },
    );
    console.log(`edge query fuzzing: answers by status ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    // The mix reaches past validation: some queries generate or hit, some are valid but unsigned.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(403) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 10);
  }, 300_000);
});
