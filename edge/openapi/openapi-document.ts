// The edge's API as an OpenAPI 3.1 document (GET /openapi.json), generated, never written by hand:
// the query parameters are the very zod schemas GET /v1/images validates with (imageQueryFields),
// their bounds narrowed to what this deployment's MODELS accept; the problem body is the contract's
// problemSchema; the models, their defaults and limits come from the configuration. OpenAPI 3.1's
// Schema Object is JSON Schema 2020-12, zod 4's own target (z.toJSONSchema). Built once per
// configuration, like the app.
import { z } from 'zod';
import { MAX_SEED, problemSchema } from '../../contract';
import type { EdgeConfig, ModelProfile } from '../config';
import { imageQueryFields } from '../request/image-query';
import { CACHE_NAME } from '../responses';

export type JsonObject = { [name: string]: JsonValue };
/** Members may be undefined while building; strip() drops them. */
export type JsonValue = string | number | boolean | null | undefined | JsonValue[] | JsonObject;

const PROBLEM = 'application/problem+json';
const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };
/** Errors inside <img> (edge/error-picture.ts). */
const ERROR_PICTURE = {
  schema: {
    type: 'string',
    contentMediaType: 'image/svg+xml',
    description:
      'For a request that displays its answer (`Sec-Fetch-Dest: image`, or an Accept preferring image/svg+xml ' +
      'over JSON): the same problem drawn as an inert SVG of the asked size, with the status, the reason and ' +
      'when to retry.',
  },
};

/** The response headers the API sends, each documented once and referenced by name. */
const HEADERS: Record<string, { description: string; schema: JsonObject }> = {
  ETag: { description: 'The content key as a strong validator: `"<key>"` (RFC 9110 §8.8.3).', schema: { type: 'string' } },
  'Cache-Control': {
    description: 'Pictures: `public, max-age=31536000, immutable` (RFC 8246); errors and redirects: `no-store`.',
    schema: { type: 'string' },
  },
  'Content-Location': { description: 'Where the picture can always be read by its key: `/v1/images/<key>.png`.', schema: { type: 'string' } },
  'Cache-Status': {
    description: `RFC 9211: \`${CACHE_NAME}; hit; detail=cache|store\`, \`${CACHE_NAME}; fwd=miss; stored\` (generated now), \`…; detail=coalesced\`, \`…; detail=not-stored\`, \`${CACHE_NAME}; fwd=miss\` (a HEAD of a picture not made yet), or \`${CACHE_NAME}; fwd=miss; detail=generating\` (a redirect while it is made).`,
    schema: { type: 'string' },
  },
  'X-Seed': { description: 'The seed the picture was made with (derived when the URL names none).', schema: { type: 'integer', minimum: 0, maximum: MAX_SEED } },
  'Retry-After': { description: 'Seconds until a retry may succeed (RFC 9110 §10.2.3).', schema: { type: 'integer', minimum: 0 } },
  RateLimit: { description: 'Generations left and seconds until the quota is whole (draft-ietf-httpapi-ratelimit-headers).', schema: { type: 'string' } },
  'RateLimit-Policy': { description: 'The quota `q` per window `w` seconds.', schema: { type: 'string' } },
  Location: {
    description: '`seed=random`: the canonical URL of one concrete picture; a held generation: this same URL.',
    schema: { type: 'string' },
  },
  Vary: { description: 'Errors: `Accept, Sec-Fetch-Dest` (a picture or problem+json).', schema: { type: 'string' } },
  Allow: { description: 'The methods this path takes.', schema: { type: 'string' } },
  'WWW-Authenticate': { description: 'The scheme an API key is sent with (RFC 9110 §11.6.1).', schema: { type: 'string' } },
  'Access-Control-Allow-Origin': { description: 'Every answer is readable from any origin: `*`.', schema: { type: 'string' } },
  'Access-Control-Expose-Headers': { description: 'The headers above, readable by scripts.', schema: { type: 'string' } },
  'Access-Control-Allow-Methods': { description: 'Preflight: `GET, HEAD, OPTIONS`.', schema: { type: 'string' } },
  'Access-Control-Allow-Headers': { description: 'Preflight: `Authorization, X-API-Key, If-None-Match`.', schema: { type: 'string' } },
  'Access-Control-Max-Age': { description: 'Preflight: how long it may be cached.', schema: { type: 'integer' } },
  'Cross-Origin-Resource-Policy': { description: '`cross-origin`: pages isolated with COEP may embed it.', schema: { type: 'string' } },
  'X-Content-Type-Options': { description: '`nosniff`.', schema: { type: 'string' } },
  'Content-Security-Policy': {
    description: 'The pages load only same-origin files; an error picture may load nothing.',
    schema: { type: 'string' },
  },
  'Content-Length': { description: 'The size of the body (also on HEAD).', schema: { type: 'integer', minimum: 0 } },
};

const CORS = ['Access-Control-Allow-Origin', 'Access-Control-Expose-Headers', 'Cross-Origin-Resource-Policy'];
const PICTURE = [...CORS, 'ETag', 'Cache-Control', 'Content-Location', 'Cache-Status', 'X-Seed', 'X-Content-Type-Options'];

function headers(...names: string[]): JsonObject {
  return Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}

function problem(description: string, ...extra: string[]): JsonObject {
  return {
    description,
    headers: headers(...CORS, 'Cache-Control', 'X-Content-Type-Options', 'Vary', 'Content-Security-Policy', ...extra),
    content: { [PROBLEM]: { schema: PROBLEM_REF }, 'image/svg+xml': ERROR_PICTURE },
  };
}

/** The JSON Schema of one zod schema, as it sits inside the document (no `$schema` of its own). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonObject {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
}

/** GET /v1/images's query parameters, from its validation schema, bounded by this deployment's models. */
function imageParameters(config: EdgeConfig): JsonObject[] {
  const fields = imageQueryFields(config.models);
  const models = config.models;
  const d = config.defaultModel.defaults;
  const narrowed: Record<string, JsonObject> = {
    // The loosest bounds any model accepts; each model's own are in its description (x-models).
    width: sideBounds(models, d.width),
    height: sideBounds(models, d.height),
    steps: { minimum: 1, maximum: Math.max(...models.map((m) => m.limits.max_steps)), default: d.steps },
    guidance: { default: d.guidance },
    scheduler: { default: d.scheduler },
    model: { default: config.defaultModel.name },
    // A transform: its JSON Schema is that of what it accepts.
    seed: jsonSchema(z.union([z.int().min(0).max(MAX_SEED), z.literal('random')])),
  };
  return Object.entries(fields).map(([name, field]) => {
    const { description, ...schema } = { ...jsonSchema(field), ...narrowed[name] };
    return {
      name,
      in: 'query',
      required: !field.safeParse(undefined).success,
      description: typeof description === 'string' ? description : '',
      schema,
    };
  });
}

function sideBounds(models: readonly ModelProfile[], fallback: number): JsonObject {
  const multiples = models.map((m) => m.limits.side_multiple);
  return {
    minimum: Math.min(...models.map((m) => m.limits.min_side)),
    maximum: Math.max(...models.map((m) => m.limits.max_side)),
    multipleOf: multiples.reduce(gcd),
    default: fallback,
  };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

const IF_NONE_MATCH = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: 'The ETag of a picture you have (or `*`): answered 304 when it is this one (RFC 9110 §13.1.2).',
  schema: { type: 'string' },
};

const KEY = {
  name: 'key',
  in: 'path',
  required: true,
  description: "The picture's content key: 64 lower-case hex digits (the ETag without quotes).",
  schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
};

const PICTURE_200 = {
  description: 'The picture.',
  headers: headers(...PICTURE, 'Content-Length', 'RateLimit', 'RateLimit-Policy'),
  content: { 'image/png': { schema: { type: 'string', contentMediaType: 'image/png' } } },
};
const NOT_MODIFIED = { description: 'The picture named by If-None-Match: no body.', headers: headers(...PICTURE) };
const STORE_DOWN = problem('The image store cannot be read (`storage-unavailable`); nothing is generated.', 'Retry-After');

function imagesOperation(config: EdgeConfig, method: 'get' | 'head'): JsonObject {
  const head = method === 'head';
  return {
    operationId: head ? 'headImage' : 'getImage',
    summary: head ? 'What GET would answer, without generating' : 'A picture by its description',
    description: head
      ? 'The headers of the picture GET would serve. A picture not made yet is not generated: its key and seed are answered with `Cache-Status: dreamurl; fwd=miss` and `no-store`.'
      : 'The first request for a URL generates the picture on the GPU function and stores it; every later one is served from the cache or the store. Parameters left out take the model\'s defaults; no `seed` means one derived from the other parameters, so one URL is always one picture. Any other parameter, a parameter given twice, or one not valid percent-encoded UTF-8 is refused. Numbers are written in plain decimal digits.',
    tags: ['pictures'],
    parameters: [...imageParameters(config), IF_NONE_MATCH],
    security: [{}, { bearer: [] }, { apiKey: [] }],
    responses: {
      200: head ? { ...PICTURE_200, content: undefined, description: 'The headers of the picture, or of the picture GET would make.' } : PICTURE_200,
      302: { description: '`seed=random`: the canonical URL of one concrete picture.', headers: headers(...CORS, 'Location', 'Cache-Control') },
      ...(head
        ? {}
        : {
            307: {
              description:
                'The generation takes longer than HOLD_MS: it goes on, and this redirect to the same URL waits for it ' +
                'again (joining it costs no rate-limit token). Browsers follow up to 20.',
              headers: headers(...CORS, 'Location', 'Cache-Control', 'Cache-Status', 'RateLimit', 'RateLimit-Policy'),
            },
          }),
      304: NOT_MODIFIED,
      400: problem('Bad parameters (`invalid-parameters`): `errors` names each one.'),
      ...(head ? {} : { 401: problem('An API key this service does not know (`unknown-api-key`).', 'WWW-Authenticate') }),
      403: problem('Generating needs a valid `sig` here (`signature-required`); stored pictures need none.'),
      414: problem('The request target is longer than 16 KiB.'),
      ...(head
        ? {}
        : {
            422: problem(
              'The GPU function estimates this picture takes longer than GPU_TIMEOUT_MS (`too-long-to-generate`): ' +
                'fewer `steps` or a smaller `width` × `height` can fit; `errors` names them.',
            ),
          }),
      ...(head ? {} : { 429: problem('This client may not start another generation yet (`rate-limited`).', 'Retry-After', 'RateLimit', 'RateLimit-Policy') }),
      ...(head ? {} : { 502: problem('The GPU function answered with an error or a picture the edge refuses (`bad-gpu-response`); nothing is stored.') }),
      503: head ? STORE_DOWN : problem('The GPU function cannot be reached or stays busy (`gpu-unavailable`), or the store cannot be read (`storage-unavailable`).', 'Retry-After'),
      ...(head ? {} : { 504: problem('No complete picture within GPU_TIMEOUT_MS (`gpu-timeout`).', 'Retry-After') }),
    },
  };
}

function progressOperation(config: EdgeConfig): JsonObject {
  return {
    operationId: 'watchProgress',
    summary: 'The progress of a picture being made (server-sent events)',
    description:
      'The same query as GET /v1/images names the same picture. A `text/event-stream` of `queued` `{position}`, ' +
      '`step` `{step, steps, eta_ms}`, then `done` `{url}` (the content URL) or `error` (a problem object), with ' +
      '`: heartbeat` comments every 15 s. Never starts, signs or charges a generation: it attaches to the one in ' +
      'flight, is `done` at once for a stored picture, and with neither waits up to 10 s for a generation to start ' +
      'before an `error` of type `nothing-in-flight`. Close it after `done` or `error` (an EventSource reconnects).',
    tags: ['pictures'],
    parameters: imageParameters(config),
    responses: {
      200: {
        description: 'The event stream (never cached).',
        headers: headers(...CORS, 'Cache-Control'),
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
      400: problem('Bad parameters (`invalid-parameters`), or `seed=random` (no single picture to watch).'),
      414: problem('The request target is longer than 16 KiB.'),
      503: STORE_DOWN,
    },
  };
}

function byKeyOperation(method: 'get' | 'head'): JsonObject {
  return {
    operationId: method === 'head' ? 'headImageByKey' : 'getImageByKey',
    summary: 'A stored picture by its content key',
    description: 'The Content-Location of every picture. Never generates.',
    tags: ['pictures'],
    parameters: [KEY, IF_NONE_MATCH],
    responses: {
      200: method === 'head' ? { ...PICTURE_200, content: undefined, description: 'The headers of the picture.' } : PICTURE_200,
      304: NOT_MODIFIED,
      404: problem('No picture is stored under this key.'),
      503: STORE_DOWN,
    },
  };
}

function page(summary: string, type: string): JsonObject {
  return {
    get: {
      summary,
      tags: ['pages'],
      responses: {
        200: {
          description: summary,
          headers: headers('Cache-Control', 'Content-Security-Policy', 'X-Content-Type-Options'),
          content: { [type]: { schema: { type: 'string' } } },
        },
      },
    },
  };
}

const PREFLIGHT = {
  summary: 'CORS preflight',
  tags: ['pictures'],
  responses: {
    204: {
      description: 'The methods and request headers the API takes.',
      headers: headers(...CORS, 'Access-Control-Allow-Methods', 'Access-Control-Allow-Headers', 'Access-Control-Max-Age'),
    },
  },
};

export function openApiDocument(config: EdgeConfig): JsonObject {
  return strip({
    openapi: '3.1.0',
    info: {
      title: 'dreamurl',
      version: '1',
      summary: 'A picture for every URL: Stable Diffusion behind a cache.',
      description: 'Every answer is readable cross-origin. Errors are RFC 9457 problem details.',
    },
    tags: [
      { name: 'pictures', description: 'Pictures by description or by content key.' },
      { name: 'pages', description: 'The demo page and this reference.' },
    ],
    paths: {
      '/v1/images': { get: imagesOperation(config, 'get'), head: imagesOperation(config, 'head'), options: PREFLIGHT },
      '/v1/images/{key}.png': { get: byKeyOperation('get'), head: byKeyOperation('head') },
      '/v1/progress': { get: progressOperation(config) },
      '/openapi.json': {
        get: {
          summary: 'This document',
          tags: ['pages'],
          responses: { 200: { description: 'OpenAPI 3.1', headers: headers(...CORS), content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      '/docs': page('The API reference, rendered from this document', 'text/html'),
      '/': page('The demo page', 'text/html'),
      '/demo.js': page("The demo page's script", 'text/javascript'),
      '/demo.css': page('The pages\' styles', 'text/css'),
    },
    components: {
      schemas: { Problem: jsonSchema(problemSchema, 'input') },
      headers: HEADERS,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (API_KEYS): the client the generation is charged to.' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same key in its own header.' },
      },
    },
    'x-models': config.models.map((m) => ({
      name: m.name,
      default: m === config.defaultModel,
      repo: m.repo,
      revision: m.revision,
      defaults: { ...m.defaults },
      limits: { ...m.limits },
    })),
  });
}

/** Drops members set to undefined, so the document is plain JSON. */
function strip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
