// GET|HEAD /v1/images?prompt=… — a picture by its description. Reads as the list of steps in the order
// of docs/edge-api.md: validate and resolve defaults, key, cache → store, and only on a miss:
// signature, then joining the generation in flight for the key (free) or charging the client and
// starting one, stored before the answer. A generation longer than HOLD_MS is answered with a
// redirect to this same URL while it goes on, so a browser's <img> keeps waiting past proxies'
// timeouts: the redirected request finds the generation in flight and joins it, uncharged.
import type { Context } from 'hono';
import type { AppDeps } from '../app';
import type { EdgeConfig } from '../config';
import { generationJob } from '../generation/image-generator';
import { inBackground } from '../log';
import { signatureExpired, signatureRequired } from '../problems';
import { chargeGeneration } from '../rate-limit/charge-generation';
import { cacheUrl, randomSeed } from '../request/content-key';
import { createImageQueryReader, type ImageQuery } from '../request/image-query';
import { createRequestResolver } from '../request/resolve-request';
import { signParams, verifySignature } from '../request/url-signature';
import { CORS_HEADERS, cacheStatus, imageHeaders, imageResponse, isConditional, notModifiedResponse } from '../responses';
import { type FoundImage, findImage } from './image-by-key';

export function imagesRoute(deps: AppDeps) {
  const { config } = deps;
  // Remembers, per isolate, what recent query strings resolved to (resolve-request.ts).
  const resolveRequest = createRequestResolver(createImageQueryReader(config.models, config.defaultModel));

  return async function getImage(c: Context): Promise<Response> {
    const url = new URL(c.req.url);
    const isHead = c.req.method === 'HEAD';

    // 1. Validate and resolve every default (400 with one entry per bad parameter), and 3. the content
    //    key of the fully resolved request (no seed means a derived one): both at once, and only the first
    //    time this isolate sees the query string.
    const { query, request, key } = await resolveRequest(url.search);

    // 2. seed=random names no picture yet: redirect to one (it will generate, so it must be signed).
    if (request === undefined) {
      await requireSignature(config.urlSigningKey, query);
      return redirectToSeed(query, randomSeed(), config);
    }
    const { seed } = request;

    // 4. Cache API, then the image store. A hit is never signed, limited or generated.
    const conditional = isConditional(c.req.header('If-None-Match'), key);
    const lookUp = () => findImage(deps, c, key, !isHead && !conditional);
    const found = await lookUp();
    if (found !== null) return hitResponse(key, found, conditional);

    // 5. A miss: only signed URLs may generate (when signing is on).
    await requireSignature(config.urlSigningKey, query);

    // 6. HEAD never generates: it says what GET would serve, marked as not stored.
    if (isHead) return headOfMiss(key, seed);

    // 7. Join the generation in flight for this key: it is paid for, so joining costs nothing.
    const hold = holdFor(config.holdMs);
    let limitHeaders: Record<string, string> = {};
    let image = await hold.race(deps.generator.join(key));
    if (image === HELD) return stillGenerating(url);
    if (image === undefined) {
      // None in flight: maybe one finished since step 4 (a redirected request often arrives just then).
      const stored = await lookUp();
      if (stored !== null) return hitResponse(key, stored, conditional);
      // 8. Charge the client its generation's cost and one in-flight slot (401 unknown key, 429 over a
      //    limit) and start one, validated and stored before anyone is answered. The slot belongs to the
      //    generation, not to this answer: it is given back when the generation ends, after a held
      //    answer too. Not waitUntil: a Worker may be gone by then, and its lease ends by itself.
      const charge = await chargeGeneration(deps, c, key, request, request.model.defaults);
      limitHeaders = charge.headers;
      const generation = deps.generator.generate(generationJob(key, request, config.gpu)).finally(charge.release);
      image = await hold.race(generation);
      if (image === HELD) return stillGenerating(url, limitHeaders);
    }
    inBackground(c, deps.cache.put(cacheUrl(config.cacheOrigin, key), { body: image.png, size: image.png.byteLength, seed }));
    const outcome = !image.stored ? 'not-stored' : image.alreadyStored ? 'coalesced' : 'generated';
    return imageResponse({ key, seed, outcome, extraHeaders: limitHeaders }, image.png, image.png.byteLength);
  };
}

function hitResponse(key: string, found: FoundImage, conditional: boolean): Response {
  const answer = { key, seed: found.seed, outcome: found.outcome };
  if (conditional) return notModifiedResponse(answer); // RFC 9110 §13.1.2
  return imageResponse(answer, found.body, found.size);
}

const HELD = Symbol('held');

/** At most `holdMs` of waiting, shared by the steps of one request; 0 waits as long as it takes. */
function holdFor(holdMs: number) {
  const deadline = Date.now() + holdMs;
  return {
    race<T>(work: Promise<T>): Promise<T | typeof HELD> {
      if (holdMs === 0) return work;
      // The work goes on after the hold (the generation is in the coordinator, not this request):
      // a rejection nobody awaits any more must not surface as an unhandled one.
      work.catch(() => undefined);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const held = new Promise<typeof HELD>((resolve) => {
        timer = setTimeout(() => resolve(HELD), Math.max(0, deadline - Date.now()));
      });
      return Promise.race([work, held]).finally(() => clearTimeout(timer));
    },
  };
}

/**
 * 307 to this very URL: the generation goes on, and the redirected request joins it and waits
 * another HOLD_MS. Browsers follow up to 20 redirects (the Fetch standard's limit), so an <img> waits
 * through 21 holds (docs/edge-api.md, "Long generations"). Never cached (RFC 9111 §5.2.2.5), or a
 * browser would loop on its cached redirect after the picture exists.
 */
function stillGenerating(url: URL, limitHeaders: Record<string, string> = {}): Response {
  return new Response(null, {
    status: 307,
    headers: {
      ...CORS_HEADERS,
      ...limitHeaders,
      Location: url.pathname + url.search,
      'Cache-Control': 'no-store',
      'Cache-Status': cacheStatus('generating'),
    },
  });
}

/**
 * With URL_SIGNING_KEY set, only signed URLs may make the service generate (403 otherwise), and only
 * until their `exp`, when they have one (the signature covers it). Reads of stored pictures never get
 * here, so they need no signature and never expire.
 */
async function requireSignature(signingKey: string | undefined, query: ImageQuery): Promise<void> {
  if (signingKey === undefined) return;
  const valid = query.sig !== undefined && (await verifySignature(signingKey, query.signed, query.sig));
  if (!valid) throw signatureRequired(query.sig !== undefined);
  if (query.expiresAt !== undefined && query.expiresAt * 1000 <= Date.now()) throw signatureExpired(query.expiresAt);
}

/**
 * How long the signed URL a `seed=random` redirect leads to may generate. Each visit of a signed
 * `seed=random` URL mints a new picture's URL; were those signed forever, one visit-harvesting client
 * would hold an unbounded stock of generations to spend later, from anywhere. Ten minutes covers
 * following the redirect and a generation with its retries (GPU_TIMEOUT_MS, 2 minutes by default).
 */
export const RANDOM_SEED_URL_LIFETIME_SECONDS = 600;

/**
 * `seed=random`: 302 to the canonical URL of one concrete picture (every parameter spelled out, signed
 * again when signing is on, with an `exp` RANDOM_SEED_URL_LIFETIME_SECONDS away, or the visited URL's
 * own if sooner), so the result can be cached and shared. The redirect itself must not be cached
 * (RFC 9111 §5.2.2.5 no-store): the next `seed=random` is another picture.
 */
async function redirectToSeed(query: ImageQuery, seed: number, config: EdgeConfig): Promise<Response> {
  const { request } = query;
  const params: [string, string][] = [
    ['prompt', request.prompt],
    ['negative_prompt', request.negative_prompt],
    ['seed', String(seed)],
    ['steps', String(request.steps)],
    ['guidance', String(request.guidance)],
    ['width', String(request.width)],
    ['height', String(request.height)],
    ['scheduler', request.scheduler],
    ['model', request.model.name],
  ];
  if (config.urlSigningKey !== undefined) {
    const lifetimeEnd = Math.floor(Date.now() / 1000) + RANDOM_SEED_URL_LIFETIME_SECONDS;
    params.push(['exp', String(Math.min(lifetimeEnd, query.expiresAt ?? lifetimeEnd))]);
    params.push(['sig', await signParams(config.urlSigningKey, params)]);
  }
  const location = `/v1/images?${params.map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join('&')}`;
  return new Response(null, {
    status: 302,
    headers: { ...CORS_HEADERS, Location: location, 'Cache-Control': 'no-store' },
  });
}

/** What a GET would answer, minus the body and its length; not cacheable, as nothing is stored yet. */
function headOfMiss(key: string, seed: number): Response {
  const headers = imageHeaders({ key, seed, outcome: 'miss' });
  headers.set('Cache-Control', 'no-store');
  return new Response(null, { status: 200, headers });
}
