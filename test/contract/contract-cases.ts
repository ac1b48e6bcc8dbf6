// The edge's behaviour as one table of cases, run against both runtimes so they cannot drift: the
// Worker in workerd with R2, Durable Objects and the Cache API (test/edge/contract-table.test.ts) and
// the Node edge over HTTP with S3, the LRU and the in-process limiter and coalescing
// (test/contract/node-edge-contract.test.ts). Plain data: each case is requests and what must come
// back. The runner (run-contract-case.ts) fills in, per case run:
//   <prompt>          a prompt no other run uses, URL-encoded (GPU stub scenarios and calls are per prompt)
//   <sN.etag> <sN.key> <sN.seed> <sN.location>   ETag, the key in it, X-Seed, Content-Location of step N
//   <sN.redirect>     the Location of step N; <sN.redirect.NAME> the parameter NAME in it
// Header expectations: a string (exact, after filling in), { match } (a regular expression),
// { sameAs: N } (the same value as step N), or null (absent).
import type { Scenario } from '../support/gpu-stub-server';
import { CONTRACT_COST_API_KEY, CONTRACT_LIMIT_API_KEY, type ContractEnvironment } from './contract-environments';

export type HeaderExpectation = string | { readonly match: string } | { readonly sameAs: number } | null;

export type BodyExpectation =
  /** A PNG of this size (read from its IHDR chunk). */
  | { readonly png: { readonly width: number; readonly height: number } }
  /** Byte for byte the body of step N. */
  | { readonly sameBytesAs: number }
  /** application/problem+json (RFC 9457) with this type and the answer's status; `params` lists `errors[].param` (any order). */
  | { readonly problem: string; readonly params?: readonly string[] }
  | { readonly empty: true }
  | { readonly contains: string }
  /**
   * An error picture (edge/error-picture.ts): an inert SVG of this size whose markup contains each of
   * `texts` (as escaped XML) and none of `lacks`.
   */
  | { readonly svg: PictureExpectation };

export interface PictureExpectation {
  readonly width: number;
  readonly height: number;
  readonly texts: readonly string[];
  readonly lacks?: readonly string[];
}

export interface ContractStep {
  readonly method?: 'GET' | 'HEAD' | 'POST' | 'OPTIONS';
  /** Path and query, with placeholders. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sign the query with the environment's URL_SIGNING_KEY. */
  readonly sign?: boolean;
  /** After signing: replace the first match of a regular expression. */
  readonly tamper?: readonly [pattern: string, replacement: string];
  /** Send this many identical requests at once; every answer must meet the expectations and be byte-identical. */
  readonly concurrent?: number;
  /**
   * Follow redirects to the same URL (a held generation, docs/edge-api.md "Long generations") as a
   * browser would, at most 20; the expectations are the last answer's, and `hops` how many were followed.
   */
  readonly follow?: { readonly hops: { readonly atLeast: number }; readonly openGateAfter?: number };
  /** Expected: the status, headers and body of the answer. */
  readonly status: number;
  readonly expectHeaders?: Readonly<Record<string, HeaderExpectation>>;
  readonly body?: BodyExpectation;
  /** GPU calls for the case's prompt once this step is answered. */
  readonly gpuCalls?: number;
}

export interface ContractCase {
  readonly name: string;
  /** Settings (contract-environments.ts); `worker` when absent. */
  readonly env?: ContractEnvironment;
  /** How the GPU stub treats the case's prompt. */
  readonly gpu?: Omit<Scenario, 'prompt'>;
  readonly steps: readonly ContractStep[];
}

const IMAGES = '/v1/images?prompt=<prompt>';
const HIT = { match: '^dreamurl; hit; detail=(cache|store)$' } as const; // a cache may forget anything
const IMMUTABLE = 'public, max-age=31536000, immutable';
const PNG_64 = { png: { width: 64, height: 64 } } as const;

/** Every picture answer carries these (docs/edge-api.md "Answers", "CORS"). */
const PICTURE_HEADERS = {
  'Content-Type': 'image/png',
  ETag: { match: '^"[0-9a-f]{64}"$' },
  'Cache-Control': IMMUTABLE,
  'Content-Location': { match: '^/v1/images/[0-9a-f]{64}\\.png$' },
  'X-Seed': { match: '^[0-9]+$' },
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'ETag, X-Seed, Content-Location, Cache-Status, Retry-After, RateLimit, RateLimit-Policy',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'X-Content-Type-Options': 'nosniff',
} as const;

/** The same picture as step 0: its validators and bytes. */
const SAME_AS_FIRST = {
  ETag: '<s0.etag>',
  'X-Seed': '<s0.seed>',
  'Content-Location': '/v1/images/<s0.key>.png',
  'Content-Length': { sameAs: 0 },
} as const;

const PROBLEM_HEADERS = { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' } as const;

const badQuery = (name: string, query: string, params: readonly string[]): ContractCase => ({
  name: `bad parameters: ${name} → 400 naming ${params.join(', ')}`,
  steps: [
    {
      path: `/v1/images?${query}`,
      status: 400,
      expectHeaders: PROBLEM_HEADERS,
      body: { problem: 'urn:dreamurl:problem:invalid-parameters', params },
      gpuCalls: 0,
    },
  ],
});

/** An error picture's headers (docs/edge-api.md "Errors inside <img>"). */
const PICTURE_ERROR_HEADERS = {
  'Content-Type': 'image/svg+xml; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; sandbox",
  'X-Content-Type-Options': 'nosniff',
  Vary: 'Accept, Sec-Fetch-Dest',
  'Access-Control-Allow-Origin': '*',
} as const;

/** What browsers send for an `<img>` (Chromium 120+, Firefox 120+, Safari 17). */
const IMG_ACCEPT = {
  chromium: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  firefox: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  safari:
    'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,' +
    'image/*;q=0.8,*/*;q=0.5',
} as const;

/** A client of its own on Workers, whose rate-limit Durable Objects every environment shares. */
const HOLDING_CLIENT = { 'CF-Connecting-IP': '203.0.113.5' } as const;

/** What API clients send: problem+json for them, ties between image and JSON included. */
const API_ACCEPTS = [
  'image/png, application/problem+json',
  '*/*',
  'application/json, image/*;q=0.9',
  'image/svg+xml;q=0.5, */*;q=0.5',
  'image/png',
  'text/html',
];

const gpuFailure = (name: string, gpu: ContractCase['gpu'], status: number, problem: string, retryAfter: string | null, calls: number): ContractCase => ({
  name: `GPU failure: ${name} → ${status}, nothing stored, the next request generates`,
  env: 'impatient',
  gpu,
  steps: [
    { path: IMAGES, status, expectHeaders: { ...PROBLEM_HEADERS, 'Retry-After': retryAfter }, body: { problem }, gpuCalls: calls },
    { method: 'HEAD', path: IMAGES, status: 200, expectHeaders: { 'Cache-Status': 'dreamurl; fwd=miss', 'Cache-Control': 'no-store' } },
    { path: IMAGES, status: 200, expectHeaders: { 'Cache-Status': 'dreamurl; fwd=miss; stored' }, body: PNG_64, gpuCalls: calls + 1 },
  ],
});

export const CONTRACT_CASES: readonly ContractCase[] = [
  // --- misses and hits ---------------------------------------------------------------------------
  {
    name: 'a miss generates and stores; the repeat is a hit with the same bytes and validators',
    steps: [
      {
        path: IMAGES,
        status: 200,
        expectHeaders: { ...PICTURE_HEADERS, 'Cache-Status': 'dreamurl; fwd=miss; stored', 'Content-Length': { match: '^[1-9][0-9]*$' }, RateLimit: null },
        body: PNG_64,
        gpuCalls: 1,
      },
      { path: IMAGES, status: 200, expectHeaders: { ...PICTURE_HEADERS, ...SAME_AS_FIRST, 'Cache-Status': HIT }, body: { sameBytesAs: 0 }, gpuCalls: 1 },
    ],
  },
  {
    name: 'another spelling of the same request (explicit defaults, leading zeros, order) is the same picture',
    steps: [
      { path: `${IMAGES}&seed=7`, status: 200, expectHeaders: { 'X-Seed': '7', 'Cache-Status': 'dreamurl; fwd=miss; stored' }, body: PNG_64 },
      {
        path: '/v1/images?seed=07&model=tiny-sd&scheduler=pndm&height=64&width=64&guidance=7.50&steps=04&negative_prompt=&prompt=<prompt>',
        status: 200,
        expectHeaders: { ...SAME_AS_FIRST, 'Cache-Status': HIT },
        body: { sameBytesAs: 0 },
        gpuCalls: 1,
      },
    ],
  },
  {
    name: 'the content key and the derived seed are the documented hashes (pinned; computed with Python hashlib)',
    steps: [
      // sha256 of {"guidance":7.5,"height":64,"model":"tiny-sd","negative_prompt":"","pipeline_version":1,
      // "prompt":"a lighthouse at dusk","repo":"tiny-sd","revision":"local-0123456789abcdef",
      // "scheduler":"pndm","seed":42,"steps":4,"width":64} (test/edge/content-key.test.ts)
      {
        method: 'HEAD',
        path: '/v1/images?prompt=a+lighthouse+at+dusk&seed=42',
        status: 200,
        expectHeaders: { ETag: '"e23ce7468c436f19d3500fb0a1ad9d527d2ab91e62b8f5548219a6c5b3f3b198"', 'X-Seed': '42' },
      },
      // The first 4 bytes of sha256 of the same JSON without "seed", big-endian.
      { method: 'HEAD', path: '/v1/images?prompt=a%20lighthouse%20at%20dusk', status: 200, expectHeaders: { 'X-Seed': '2762251482' } },
    ],
  },
  {
    name: 'concurrent misses for one picture make one GPU call and all get the same picture',
    gpu: { mode: 'slow', delayMs: 400 },
    steps: [
      {
        path: IMAGES,
        concurrent: 8,
        status: 200,
        expectHeaders: { ...PICTURE_HEADERS, 'Cache-Status': { match: '^dreamurl; fwd=miss; stored' } },
        body: PNG_64,
        gpuCalls: 1,
      },
      { path: IMAGES, status: 200, expectHeaders: { 'Cache-Status': HIT }, gpuCalls: 1 },
    ],
  },
  {
    name: 'a model with its own GPU function and defaults generates there',
    steps: [{ path: `${IMAGES}&model=other`, status: 200, expectHeaders: PICTURE_HEADERS, body: { png: { width: 96, height: 64 } }, gpuCalls: 1 }],
  },

  // --- conditional requests (RFC 9110 §13.1.2) ---------------------------------------------------
  {
    name: 'If-None-Match with the stored picture’s ETag (strong, weak, listed, *) is a 304 with the validators',
    steps: [
      { path: IMAGES, status: 200, body: PNG_64 },
      ...['<s0.etag>', 'W/<s0.etag>', '"other", <s0.etag>', '*'].map(
        (ifNoneMatch): ContractStep => ({
          path: IMAGES,
          headers: { 'If-None-Match': ifNoneMatch },
          status: 304,
          expectHeaders: { ETag: '<s0.etag>', 'X-Seed': '<s0.seed>', 'Cache-Control': IMMUTABLE, 'Content-Type': null },
          body: { empty: true },
        }),
      ),
      { path: IMAGES, headers: { 'If-None-Match': `"${'0'.repeat(64)}"` }, status: 200, body: { sameBytesAs: 0 }, gpuCalls: 1 },
    ],
  },
  {
    name: 'a miss generates even when the client names the key it expects (nothing to be Not Modified about)',
    steps: [
      { method: 'HEAD', path: IMAGES, status: 200, expectHeaders: { 'Cache-Status': 'dreamurl; fwd=miss' }, gpuCalls: 0 },
      { path: IMAGES, headers: { 'If-None-Match': '<s0.etag>' }, status: 200, expectHeaders: { ETag: '<s0.etag>' }, body: PNG_64, gpuCalls: 1 },
    ],
  },

  // --- the content URL ---------------------------------------------------------------------------
  {
    name: 'the content URL serves the stored picture by its key, for GET, HEAD and If-None-Match',
    steps: [
      { path: IMAGES, status: 200, body: PNG_64 },
      { path: '<s0.location>', status: 200, expectHeaders: { ...PICTURE_HEADERS, ...SAME_AS_FIRST, 'Cache-Status': HIT }, body: { sameBytesAs: 0 } },
      { method: 'HEAD', path: '<s0.location>', status: 200, expectHeaders: { ...SAME_AS_FIRST, 'Cache-Status': HIT }, body: { empty: true } },
      { path: '<s0.location>', headers: { 'If-None-Match': '<s0.etag>' }, status: 304, expectHeaders: { ETag: '<s0.etag>' }, body: { empty: true } },
      { path: '<s0.location>', status: 200, gpuCalls: 1 },
    ],
  },
  {
    name: 'a key that is not stored, or anything that is not a key, is a 404 problem',
    steps: [
      `/v1/images/${'ab'.repeat(32)}.png`,
      `/v1/images/${'A'.repeat(64)}.png`,
      `/v1/images/${'a'.repeat(63)}.png`,
      `/v1/images/${'a'.repeat(64)}.jpg`,
      '/v1/images/..%2F..%2Fsecrets.png',
      '/v2/anything',
    ].map((path): ContractStep => ({ path, status: 404, expectHeaders: PROBLEM_HEADERS, body: { problem: 'about:blank' } })),
  },

  // --- HEAD ----------------------------------------------------------------------------------------
  {
    name: 'HEAD of a miss never generates: the key and seed a GET would give, marked not stored',
    steps: [
      {
        method: 'HEAD',
        path: IMAGES,
        status: 200,
        expectHeaders: {
          ...PICTURE_HEADERS,
          'Cache-Status': 'dreamurl; fwd=miss',
          'Cache-Control': 'no-store',
          'Content-Length': null,
        },
        body: { empty: true },
        gpuCalls: 0,
      },
      { path: IMAGES, status: 200, expectHeaders: { ETag: '<s0.etag>', 'X-Seed': '<s0.seed>', 'Content-Location': '<s0.location>' }, gpuCalls: 1 },
    ],
  },
  {
    name: 'HEAD of a stored picture: the GET headers with the real length, no body',
    steps: [
      { path: IMAGES, status: 200, body: PNG_64 },
      { method: 'HEAD', path: IMAGES, status: 200, expectHeaders: { ...PICTURE_HEADERS, ...SAME_AS_FIRST, 'Cache-Status': HIT }, body: { empty: true }, gpuCalls: 1 },
    ],
  },

  // --- bad parameters, methods, paths ------------------------------------------------------------
  badQuery('no prompt', 'steps=4', ['prompt']),
  badQuery('a malformed percent escape', 'prompt=100%25+a%zz', ['prompt']),
  badQuery('a control character', 'prompt=a%0D%0AX-Injected:+1', ['prompt']),
  badQuery('fractional steps', 'prompt=<prompt>&steps=1.5', ['steps']),
  badQuery('steps over the model limit', 'prompt=<prompt>&steps=51', ['steps']),
  badQuery('guidance in exponent notation', 'prompt=<prompt>&guidance=1e1', ['guidance']),
  badQuery('a seed over 2^32-1', 'prompt=<prompt>&seed=4294967296', ['seed']),
  badQuery('a width that is not a multiple of 8', 'prompt=<prompt>&width=65', ['width']),
  badQuery('an unknown scheduler', 'prompt=<prompt>&scheduler=karras', ['scheduler']),
  badQuery('an unknown model', 'prompt=<prompt>&model=sdxl', ['model']),
  badQuery("more pixels than the model's max_pixels", 'prompt=<prompt>&model=other&width=128&height=128', ['width,height']),
  badQuery("more work than the model's max_pixel_steps (a default size)", 'prompt=<prompt>&model=other&steps=16', ['width,height,steps']),
  badQuery('a parameter given twice', 'prompt=<prompt>&steps=4&steps=4', ['steps']),
  badQuery('a parameter in another letter case', 'prompt=<prompt>&Steps=4', ['Steps']),
  badQuery('several at once', 'prompt=&steps=x&guidance=y&color=red', ['color', 'guidance', 'prompt', 'steps']),
  {
    name: 'a request target over 16 KiB is a 414 problem',
    steps: [{ path: `/v1/images?prompt=${'a'.repeat(17 * 1024)}`, status: 414, expectHeaders: PROBLEM_HEADERS, body: { problem: 'about:blank' } }],
  },
  {
    name: 'methods: a CORS preflight is allowed, other methods are 405 with Allow',
    steps: [
      {
        method: 'OPTIONS',
        path: IMAGES,
        headers: { Origin: 'https://blog.example', 'Access-Control-Request-Method': 'GET' },
        status: 204,
        expectHeaders: {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, X-API-Key, If-None-Match',
        },
      },
      { method: 'POST', path: IMAGES, status: 405, expectHeaders: { ...PROBLEM_HEADERS, Allow: 'GET, HEAD, OPTIONS' }, body: { problem: 'about:blank' }, gpuCalls: 0 },
    ],
  },
  {
    name: 'the demo page is served at /',
    steps: [
      {
        path: '/',
        status: 200,
        expectHeaders: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': { match: "script-src 'self'" } },
        body: { contains: '<button id="generate" type="submit">Generate</button>' },
      },
      // The script and styles it loads, built from edge/demo/page/ into the module both edges serve.
      {
        path: '/demo.js',
        status: 200,
        expectHeaders: { 'Content-Type': 'text/javascript; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
        body: { contains: 'generating\\u2026' },
      },
      { path: '/demo.css', status: 200, expectHeaders: { 'Content-Type': 'text/css; charset=utf-8' }, body: { contains: '#generate' } },
    ],
  },
  {
    name: 'the API is described at /openapi.json (OpenAPI 3.1) and /docs (its reference page)',
    steps: [
      {
        path: '/openapi.json',
        status: 200,
        expectHeaders: { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' },
        body: { contains: '"openapi":"3.1.0"' },
      },
      {
        path: '/docs',
        status: 200,
        expectHeaders: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': { match: "script-src 'self'" } },
        body: { contains: '<code>GET /v1/images</code>' },
      },
    ],
  },

  // --- long generations: held for HOLD_MS (150 ms here), then a redirect to the same URL -------------
  {
    name: 'a generation longer than HOLD_MS: 307 to the same URL while it goes on; following it joins, uncharged',
    env: 'holding',
    // The GPU answers only once the runner opens the gate (after one redirect of step 1): no timing.
    gpu: { mode: 'gated' },
    steps: [
      {
        path: `${IMAGES}&steps=5`,
        headers: HOLDING_CLIENT,
        status: 307,
        expectHeaders: {
          Location: '/v1/images?prompt=<prompt>&steps=5',
          'Cache-Control': 'no-store',
          'Cache-Status': 'dreamurl; fwd=miss; detail=generating',
          'Access-Control-Allow-Origin': '*',
        },
        body: { empty: true },
      },
      // The redirected requests join the generation in flight: no new GPU call, and no token (the
      // budget of 1 was spent by the request that started it, so a charged hop would be a 429).
      {
        path: `${IMAGES}&steps=5`,
        headers: HOLDING_CLIENT,
        follow: { hops: { atLeast: 1 }, openGateAfter: 1 },
        status: 200,
        // Joined while it ran (coalesced), or found stored if it finished between two redirects.
        expectHeaders: {
          'Cache-Status': { match: '^dreamurl; (fwd=miss; stored; detail=coalesced|hit; detail=store)$' },
          RateLimit: null,
        },
        body: PNG_64,
        gpuCalls: 1,
      },
      { path: `${IMAGES}&steps=5`, status: 200, expectHeaders: { 'Cache-Status': HIT }, body: { sameBytesAs: 1 } },
      // Another picture would start a generation: the client's budget is spent.
      { path: `${IMAGES}&steps=6`, headers: HOLDING_CLIENT, status: 429, gpuCalls: 1 },
    ],
  },

  // --- errors inside <img>: an SVG picture for clients that display it ------------------------------
  {
    name: 'an <img> of a bad URL (Sec-Fetch-Dest: image) gets an SVG of the asked size with status and reason',
    steps: [
      {
        path: `${IMAGES}&width=128&height=96&steps=abc`,
        headers: { 'Sec-Fetch-Dest': 'image' },
        status: 400,
        expectHeaders: PICTURE_ERROR_HEADERS,
        body: { svg: { width: 128, height: 96, texts: ['400 Invalid query parameters', 'steps: must be a whole'] } },
        gpuCalls: 0,
      },
      // A size the model refuses is itself the error: the picture falls back to the model's default size.
      {
        path: `${IMAGES}&width=4096`,
        headers: { 'Sec-Fetch-Dest': 'image' },
        status: 400,
        body: { svg: { width: 64, height: 64, texts: ['400 Invalid'] } },
      },
      {
        path: `${IMAGES}&model=other&steps=0`,
        headers: { 'Sec-Fetch-Dest': 'image' },
        status: 400,
        body: { svg: { width: 96, height: 64, texts: ['400'] } },
      },
    ],
  },
  {
    name: 'browsers’ image Accept gets the SVG; API clients’ Accept (ties included) gets problem+json',
    steps: [
      ...Object.values(IMG_ACCEPT).map(
        (accept): ContractStep => ({
          path: '/v1/images?prompt=',
          headers: { Accept: accept },
          status: 400,
          expectHeaders: PICTURE_ERROR_HEADERS,
          body: { svg: { width: 64, height: 64, texts: ['prompt:'] } },
        }),
      ),
      {
        path: '/v1/images?prompt=',
        headers: { Accept: 'image/*;q=0.9, application/json;q=0.5' },
        status: 400,
        body: { svg: { width: 64, height: 64, texts: [] } },
      },
      ...API_ACCEPTS.map(
        (accept): ContractStep => ({
          path: '/v1/images?prompt=',
          headers: { Accept: accept },
          status: 400,
          expectHeaders: { ...PROBLEM_HEADERS, Vary: 'Accept, Sec-Fetch-Dest' },
          body: { problem: 'urn:dreamurl:problem:invalid-parameters', params: ['prompt'] },
        }),
      ),
    ],
  },
  {
    name: 'a hostile reason (markup in a parameter name) is escaped text in the SVG, never markup',
    steps: [
      {
        path: `${IMAGES}&%3Cscript%3Ealert(1)%3C%2Fscript%3E%3Ca%20href%3D%22x%22%3E=1`,
        headers: { 'Sec-Fetch-Dest': 'image' },
        status: 400,
        expectHeaders: PICTURE_ERROR_HEADERS,
        body: {
          svg: {
            width: 64,
            height: 64,
            texts: ['&lt;script&gt;alert(1)&lt;/script&gt;&lt;a href=&quot;x&quot;&gt;'],
            lacks: ['<script', '<a '],
          },
        },
      },
    ],
  },
  {
    name: 'an <img> of a missing key, or of a path that is nothing, gets a 404 picture at the default size',
    steps: [
      {
        path: `/v1/images/${'cd'.repeat(32)}.png`,
        headers: { 'Sec-Fetch-Dest': 'image' },
        status: 404,
        expectHeaders: PICTURE_ERROR_HEADERS,
        body: { svg: { width: 64, height: 64, texts: ['404 Not Found'] } },
      },
      {
        path: '/nothing.png',
        headers: { 'Sec-Fetch-Dest': 'image' },
        status: 404,
        body: { svg: { width: 64, height: 64, texts: ['404'] } },
      },
    ],
  },
  {
    name: 'an <img> over the rate limit gets a 429 picture that says when to retry, with the RateLimit fields',
    env: 'limited',
    steps: [
      // Charged to the client's address (no API key): the other rate-limit case spends only keys' budgets.
      // Workers trust CF-Connecting-IP, so this case has a bucket of its own there (its Durable Objects
      // are shared by every environment); the Node edge drops the header and charges the peer address.
      { path: `${IMAGES}&seed=11`, headers: { 'CF-Connecting-IP': '203.0.113.11' }, status: 200 },
      { path: `${IMAGES}&seed=12`, headers: { 'CF-Connecting-IP': '203.0.113.11' }, status: 200 },
      {
        path: `${IMAGES}&seed=13&width=80`,
        headers: { 'Sec-Fetch-Dest': 'image', 'CF-Connecting-IP': '203.0.113.11' },
        status: 429,
        expectHeaders: {
          ...PICTURE_ERROR_HEADERS,
          // 80×64 costs 1.25 tokens (docs/edge-api.md, Rate limit): 37.5 s at 2 tokens a minute.
          'Retry-After': { match: '^(37|38)$' },
          'RateLimit-Policy': '"generations";q=2;w=60',
          RateLimit: { match: '^"generations";r=0;t=[0-9]+$' },
        },
        body: { svg: { width: 80, height: 64, texts: ['429 Too many generations', 'Try again in '] } },
        gpuCalls: 2,
      },
    ],
  },
  {
    name: 'an <img> whose GPU function cannot be reached gets a 503 picture with Retry-After',
    env: 'unreachable',
    steps: [
      {
        path: IMAGES,
        headers: { 'Sec-Fetch-Dest': 'image' },
        status: 503,
        expectHeaders: { ...PICTURE_ERROR_HEADERS, 'Retry-After': '10' },
        body: { svg: { width: 64, height: 64, texts: ['503 The GPU function is unavailable', 'Try again in 10 s'] } },
      },
    ],
  },

  // --- seed=random -----------------------------------------------------------------------------------
  {
    name: 'seed=random redirects (302, not cacheable) to the canonical URL of one concrete picture',
    steps: [
      {
        path: `${IMAGES}&seed=random&steps=6`,
        status: 302,
        expectHeaders: {
          'Cache-Control': 'no-store',
          Location: { match: '^/v1/images\\?prompt=[^&]+&negative_prompt=&seed=[0-9]+&steps=6&guidance=7\\.5&width=64&height=64&scheduler=pndm&model=tiny-sd$' },
        },
        gpuCalls: 0,
      },
      { path: '<s0.redirect>', status: 200, expectHeaders: { 'X-Seed': '<s0.redirect.seed>', 'Cache-Status': 'dreamurl; fwd=miss; stored' }, body: PNG_64 },
      { path: '<s0.redirect>', status: 200, expectHeaders: { 'Cache-Status': HIT }, body: { sameBytesAs: 1 }, gpuCalls: 1 },
    ],
  },

  // --- signed URLs -------------------------------------------------------------------------------------
  {
    name: 'signing on: an unsigned miss is 403 (GET and HEAD), a signed URL generates, the stored picture needs no signature',
    env: 'signed',
    steps: [
      { path: IMAGES, status: 403, expectHeaders: PROBLEM_HEADERS, body: { problem: 'urn:dreamurl:problem:signature-required' }, gpuCalls: 0 },
      { method: 'HEAD', path: IMAGES, status: 403, gpuCalls: 0 },
      { path: IMAGES, sign: true, status: 200, expectHeaders: { 'Cache-Status': 'dreamurl; fwd=miss; stored' }, body: PNG_64, gpuCalls: 1 },
      { path: IMAGES, status: 200, expectHeaders: { 'Cache-Status': HIT }, body: { sameBytesAs: 2 } },
      { path: `${IMAGES}&sig=${'A'.repeat(43)}`, status: 200, expectHeaders: { 'Cache-Status': HIT }, gpuCalls: 1 },
    ],
  },
  {
    name: 'signing on: a changed parameter or a corrupted signature is 403 and generates nothing',
    env: 'signed',
    steps: [
      { path: `${IMAGES}&steps=8`, sign: true, tamper: ['steps=8', 'steps=9'], status: 403, body: { problem: 'urn:dreamurl:problem:signature-required' } },
      { path: `${IMAGES}&steps=8`, sign: true, tamper: ['steps=8', 'steps=8&guidance=3'], status: 403 },
      // A well-formed signature made with another key (test/edge/signing/signed-urls.test.ts).
      { path: `${IMAGES}&steps=8`, sign: true, tamper: ['sig=[^&]+', 'sig=m-TqHV1mBZpeNTp9L_643WLxLDWycJQmGgqxxFU3n6k'], status: 403, gpuCalls: 0 },
    ],
  },
  {
    name: 'signing on: seed=random needs a signature and redirects to a signed URL',
    env: 'signed',
    steps: [
      { path: `${IMAGES}&seed=random`, status: 403, gpuCalls: 0 },
      { path: `${IMAGES}&seed=random`, sign: true, status: 302, expectHeaders: { Location: { match: '&model=tiny-sd&exp=[0-9]+&sig=[A-Za-z0-9_-]{43}$' } } },
      { path: '<s1.redirect>', status: 200, body: PNG_64, gpuCalls: 1 },
    ],
  },
  {
    name: 'signing on: an <img> of an unsigned or expired URL gets a 403 picture and generates nothing',
    env: 'signed',
    steps: [
      {
        path: `${IMAGES}&width=96`,
        headers: { 'Sec-Fetch-Dest': 'image' },
        status: 403,
        expectHeaders: PICTURE_ERROR_HEADERS,
        body: { svg: { width: 96, height: 64, texts: ['403 A valid signature is required to generate'] } },
      },
      {
        // exp=1 is 1970-01-01T00:00:01Z: a valid signature, long expired.
        path: `${IMAGES}&exp=1`,
        sign: true,
        headers: { 'Sec-Fetch-Dest': 'image' },
        status: 403,
        expectHeaders: PICTURE_ERROR_HEADERS,
        body: { svg: { width: 64, height: 64, texts: ['403 The signature has expired', '1970-01-01T00:00:01'] } },
        gpuCalls: 0,
      },
      { path: `${IMAGES}&exp=1`, sign: true, status: 403, body: { problem: 'urn:dreamurl:problem:signature-expired' } },
    ],
  },

  // --- rate limit (RATE_LIMIT_PER_MINUTE=2, with API keys) ---------------------------------------------
  {
    name: 'rate limit: the third generation within a minute is 429 with Retry-After and RateLimit fields; hits stay free',
    env: 'limited',
    steps: [
      {
        path: `${IMAGES}&seed=1`,
        headers: { 'X-API-Key': 'contract-api-key-1' },
        status: 200,
        expectHeaders: { 'RateLimit-Policy': '"generations";q=2;w=60', RateLimit: { match: '^"generations";r=1;t=(29|30)$' } },
      },
      {
        path: `${IMAGES}&seed=2`,
        headers: { Authorization: 'Bearer contract-api-key-1' },
        status: 200,
        expectHeaders: { RateLimit: { match: '^"generations";r=0;t=(59|60)$' } },
      },
      {
        path: `${IMAGES}&seed=3`,
        headers: { 'X-API-Key': 'contract-api-key-1' },
        status: 429,
        expectHeaders: {
          ...PROBLEM_HEADERS,
          'Retry-After': { match: '^(29|30)$' },
          'RateLimit-Policy': '"generations";q=2;w=60',
          RateLimit: { match: '^"generations";r=0;t=[0-9]+$' },
        },
        body: { problem: 'urn:dreamurl:problem:rate-limited' },
        gpuCalls: 2,
      },
      { path: `${IMAGES}&seed=1`, headers: { 'X-API-Key': 'contract-api-key-1' }, status: 200, expectHeaders: { 'Cache-Status': HIT, RateLimit: null } },
      { path: '<s0.location>', headers: { 'X-API-Key': 'contract-api-key-1' }, status: 200 },
      { path: `${IMAGES}&seed=3`, headers: { 'X-API-Key': 'contract-api-key-2' }, status: 200, gpuCalls: 3 },
      {
        path: `${IMAGES}&seed=4`,
        headers: { Authorization: 'Bearer not-a-key-of-this-service' },
        status: 401,
        expectHeaders: { ...PROBLEM_HEADERS, 'WWW-Authenticate': { match: '^Bearer' } },
        body: { problem: 'urn:dreamurl:problem:unknown-api-key' },
        gpuCalls: 3,
      },
    ],
  },

  {
    name: 'rate limit: a generation costs tokens by its work (8 steps is two default requests’ worth)',
    env: 'limited',
    steps: [
      {
        path: `${IMAGES}&steps=8&seed=1`,
        headers: { 'X-API-Key': CONTRACT_COST_API_KEY },
        status: 200,
        expectHeaders: { 'RateLimit-Policy': '"generations";q=2;w=60', RateLimit: { match: '^"generations";r=0;t=(59|60)$' } },
      },
      {
        path: `${IMAGES}&seed=2`,
        headers: { 'X-API-Key': CONTRACT_COST_API_KEY },
        status: 429,
        expectHeaders: { ...PROBLEM_HEADERS, 'Retry-After': { match: '^(29|30)$' } },
        body: { problem: 'urn:dreamurl:problem:rate-limited' },
        gpuCalls: 1,
      },
    ],
  },

  {
    name: 'rate limit and cost limits agree: beyond max_pixel_steps is a 400 that costs nothing, the dearest admitted request costs max_pixel_steps / the default',
    env: 'limited',
    steps: [
      {
        path: '/v1/images?prompt=<prompt>&model=other&steps=16',
        headers: { 'X-API-Key': CONTRACT_LIMIT_API_KEY },
        status: 400,
        body: { problem: 'urn:dreamurl:problem:invalid-parameters', params: ['width,height,steps'] },
        gpuCalls: 0,
      },
      {
        // 96×64 × 15 steps = max_pixel_steps, 1.5 default requests: 0.5 of 2 tokens left, full in 45 s.
        path: '/v1/images?prompt=<prompt>&model=other&steps=15',
        headers: { 'X-API-Key': CONTRACT_LIMIT_API_KEY },
        status: 200,
        expectHeaders: { 'RateLimit-Policy': '"generations";q=2;w=60', RateLimit: { match: '^"generations";r=0;t=(44|45)$' } },
        gpuCalls: 1,
      },
    ],
  },

  // --- GPU failures: mapped to 502/503/504, nothing stored -------------------------------------------
  gpuFailure('an upstream 500', { mode: 'status', status: 500, times: 1 }, 502, 'urn:dreamurl:problem:bad-gpu-response', null, 1),
  gpuFailure('a body that is not a PNG', { mode: 'not_png', times: 1 }, 502, 'urn:dreamurl:problem:bad-gpu-response', null, 1),
  gpuFailure('a truncated PNG', { mode: 'truncated', times: 1 }, 502, 'urn:dreamurl:problem:bad-gpu-response', null, 1),
  gpuFailure('a picture from another model', { mode: 'wrong_model', times: 1 }, 502, 'urn:dreamurl:problem:bad-gpu-response', null, 1),
  gpuFailure('a picture without X-Seed', { mode: 'no_seed', times: 1 }, 502, 'urn:dreamurl:problem:bad-gpu-response', null, 1),
  gpuFailure(
    'a 413 too-long-for-deadline (its estimate outlasts GPU_TIMEOUT_MS)',
    { mode: 'status', status: 413, problemType: 'urn:dreamurl:gpu-function:problem:too-long-for-deadline', times: 1 },
    422,
    'urn:dreamurl:problem:too-long-to-generate',
    null,
    1,
  ),
  gpuFailure('no answer within the budget', { mode: 'hang', times: 1 }, 504, 'urn:dreamurl:problem:gpu-timeout', '10', 1),
  gpuFailure('a 503 through every retry', { mode: 'status', status: 503, retryAfter: 0, times: 3 }, 503, 'urn:dreamurl:problem:gpu-unavailable', '0', 3),
  gpuFailure('a platform’s 429, too long to wait for', { mode: 'status', status: 429, retryAfter: 60, times: 1 }, 503, 'urn:dreamurl:problem:gpu-unavailable', '60', 1),
  {
    name: 'GPU failure: a GPU function that cannot be reached → 503 with Retry-After',
    env: 'unreachable',
    steps: [
      {
        path: IMAGES,
        status: 503,
        expectHeaders: { ...PROBLEM_HEADERS, 'Retry-After': '10' },
        body: { problem: 'urn:dreamurl:problem:gpu-unavailable' },
      },
      { method: 'HEAD', path: IMAGES, status: 200, expectHeaders: { 'Cache-Status': 'dreamurl; fwd=miss' } },
    ],
  },
];
