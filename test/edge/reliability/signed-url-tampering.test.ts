// Signed URLs, as a property: take any valid signed URL, change any one thing about it — a parameter's
// value (to another valid value), a parameter removed, a parameter added (even one that spells out a
// default), one character of the signature — and a miss is refused with 403, generating nothing.
// Every run first checks that the untouched URL is accepted (HEAD of a signed miss is 200 without
// generating), so a 403 can only come from the change. test/edge/signing/signed-urls.test.ts has the
// hand-picked cases; this is the generated sweep over every parameter.
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { problemSchema, SCHEDULER_NAMES } from '../../../contract';
import { signedImageUrl } from '../../../edge/request/url-signature';
import { fuzzSeed, seedLine } from '../../support/fuzz-seed';
import { edgeApp, ORIGIN } from '../support/edge-app';
import { gpuCalls } from '../support/gpu-stub';

const RUNS = 500;
const KEY = 'tamper-test-signing-key, 32 bytes or more';
const app = edgeApp({ URL_SIGNING_KEY: KEY });

type Params = Record<string, string>;

// Valid values for the test project's default model (tiny-sd: sides 32–256 in steps of 8, ≤ 50 steps).
const values: Record<string, fc.Arbitrary<string>> = {
  negative_prompt: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== ''),
  seed: fc.nat({ max: 4_294_967_295 }).map(String),
  steps: fc.integer({ min: 1, max: 50 }).map(String),
  guidance: fc.integer({ min: 0, max: 300 }).map((tenths) => String(tenths / 10)),
  width: fc.integer({ min: 4, max: 32 }).map((n) => String(n * 8)),
  height: fc.integer({ min: 4, max: 32 }).map((n) => String(n * 8)),
  scheduler: fc.constantFrom(...SCHEDULER_NAMES),
  model: fc.constant('tiny-sd'),
};
const OPTIONAL = Object.keys(values);

/** A valid request: a prompt of its own (so it is never stored) and any subset of the other parameters. */
const signedParams: fc.Arbitrary<Params> = fc
  .tuple(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => !/\p{Cc}/u.test(s)),
    fc.subarray(OPTIONAL).chain((names) => fc.tuple(...names.map((name) => values[name]!.map((value) => [name, value] as const)))),
  )
  .map(([text, entries]) => ({ prompt: `${text} ${crypto.randomUUID()}`, ...Object.fromEntries(entries) }));

type Tamper =
  | { readonly kind: 'change'; readonly name: string; readonly value: string }
  | { readonly kind: 'remove'; readonly name: string }
  | { readonly kind: 'add'; readonly name: string; readonly value: string }
  | { readonly kind: 'sig'; readonly position: number };

/** One change to a signed request; a changed value always differs once decoded and normalised. */
function tamperOf(params: Params): fc.Arbitrary<Tamper> {
  const present = Object.keys(params);
  const absent = OPTIONAL.filter((name) => !(name in params));
  const options: fc.Arbitrary<Tamper>[] = [
    fc.nat({ max: 42 }).map((position): Tamper => ({ kind: 'sig', position })),
    // `model` has one valid value here (another model has other limits), so it is only added or removed.
    fc.constantFrom(...present.filter((name) => name !== 'model')).chain((name) => {
      const other = name === 'prompt' ? fc.constantFrom('x', '!', 'é').map((c) => `${params.prompt}${c}`) : values[name]!;
      return other.filter((value) => value.trim() !== params[name]!.trim() && Number(value) !== Number(params[name])).map((value): Tamper => ({ kind: 'change', name, value }));
    }),
  ];
  const removable = present.filter((name) => name !== 'prompt');
  if (removable.length > 0) options.push(fc.constantFrom(...removable).map((name): Tamper => ({ kind: 'remove', name })));
  if (absent.length > 0) options.push(fc.constantFrom(...absent).chain((name) => values[name]!.map((value): Tamper => ({ kind: 'add', name, value }))));
  return fc.oneof(...options);
}

function pathOf(params: Params, sig: string): string {
  const query = Object.entries(params).map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`);
  return `/v1/images?${[...query, `sig=${sig}`].join('&')}`;
}

function tampered(params: Params, sig: string, tamper: Tamper): string {
  switch (tamper.kind) {
    case 'change':
      return pathOf({ ...params, [tamper.name]: tamper.value }, sig);
    case 'remove': {
      const { [tamper.name]: _removed, ...rest } = params;
      return pathOf(rest, sig);
    }
    case 'add':
      return pathOf({ ...params, [tamper.name]: tamper.value }, sig);
    case 'sig': {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const old = sig[tamper.position]!;
      // Any other character, the last one's unused low bits included: only the canonical spelling verifies.
      const replacement = alphabet[(alphabet.indexOf(old) + 1) % 64]!;
      return pathOf(params, `${sig.slice(0, tamper.position)}${replacement}${sig.slice(tamper.position + 1)}`);
    }
  }
}

describe('signed URLs under tampering (property)', () => {
  it(`refuses ${RUNS} generated one-change tamperings of valid signed URLs with 403, generating nothing`, async () => {
    const seed = fuzzSeed((env as unknown as Record<string, unknown>).FUZZ_SEED);
    console.log(seedLine('signed URL tampering (workerd)', seed, RUNS));
    const kinds = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        signedParams.chain((params) => fc.tuple(fc.constant(params), tamperOf(params))),
        async ([params, tamper]) => {
          const sig = new URL(await signedImageUrl(ORIGIN, params, KEY)).searchParams.get('sig')!;
          const original = await app.request(pathOf(params, sig), { method: 'HEAD' });
          expect(original.status, 'the untouched signed URL is accepted').toBe(200);
          expect(original.headers.get('Cache-Status')).toBe('dreamurl; fwd=miss');

          const path = tampered(params, sig, tamper);
          const res = await app.request(path);
          expect(res.status, `${JSON.stringify(tamper)} ${path}`).toBe(403);
          expect(problemSchema.parse(await res.json())).toMatchObject({ status: 403, type: 'urn:dreamurl:problem:signature-required' });
          const prompts = tamper.kind === 'change' && tamper.name === 'prompt' ? [params.prompt!, tamper.value] : [params.prompt!];
          for (const prompt of prompts) expect(await gpuCalls(prompt.trim().replace(/\s+/gu, ' ').normalize('NFC'))).toHaveLength(0);
          const label = tamper.kind === 'sig' ? 'sig' : `${tamper.kind} ${tamper.name}`;
          kinds.set(label, (kinds.get(label) ?? 0) + 1);
        },
      ),
      { numRuns: RUNS, seed, endOnFailure: true },
    );
    console.log(`signed URL tampering: ${JSON.stringify(Object.fromEntries([...kinds].sort()))}`);
    // Every parameter was changed, removed or added at least once, and the signature was corrupted.
    for (const name of ['prompt', ...OPTIONAL.filter((n) => n !== 'model')]) {
      expect([...kinds.keys()].some((label) => label.endsWith(` ${name}`)), name).toBe(true);
    }
    expect(kinds.get('sig') ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
