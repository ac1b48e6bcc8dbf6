// GET|HEAD /v1/images?prompt=… — a picture by its description. Reads as the list of steps in the order
// of docs/edge-api.md: validate and resolve defaults, key, cache → store, and only on a miss:
// signature, client budget, one coalesced generation, stored before the answer.
import type { Context } from 'hono';
import type { AppDeps } from '../app';
import type { EdgeConfig } from '../config';
import { generationJob } from '../generation/image-generator';
import { inBackground } from '../log';
import { signatureRequired } from '../problems';
import { chargeGeneration } from '../rate-limit/charge-generation';
import { contentKey, contentPath, derivedSeed, randomSeed } from '../request/content-key';
import {
  createImageQueryReader,
  type ImageQuery,
  type ImageRequest,
  type UnseededImageRequest,
} from '../request/image-query';
import { signParams, verifySignature } from '../request/url-signature';
import { CORS_HEADERS, imageHeaders, imageResponse, isConditional, notModifiedResponse } from '../responses';
import { findImage } from './image-by-key';

export function imagesRoute(deps: AppDeps) {
  const { config } = deps;
  const readQuery = createImageQueryReader(config.models, config.defaultModel);

  return async function getImage(c: Context): Promise<Response> {
    const url = new URL(c.req.url);
    const isHead = c.req.method === 'HEAD';

    // 1. Validate and resolve every default (400 with one entry per bad parameter).
    const query = readQuery(url.search);

    // 2. seed=random names no picture yet: redirect to one (it will generate, so it must be signed).
    if (query.seed === 'random') {
      await requireSignature(config.urlSigningKey, query);
      return redirectToSeed(query.request, randomSeed(), config);
    }

    // 3. The content key of the fully resolved request; no seed means a derived one.
    const seed = query.seed === 'derived' ? await derivedSeed(query.request) : query.seed;
    const request: ImageRequest = { ...query.request, seed };
    const key = await contentKey(request);
    const contentUrl = new URL(contentPath(key), url).toString();

    // 4. Cache API, then the image store. A hit is never signed, limited or generated.
    const conditional = isConditional(c.req.header('If-None-Match'), key);
    const found = await findImage(deps, c, key, contentUrl, !isHead && !conditional);
    if (found !== null) {
      const answer = { key, seed: found.seed, outcome: found.outcome };
      if (conditional) return notModifiedResponse(answer); // RFC 9110 §13.1.2
      return imageResponse(answer, found.body, found.size);
    }

    // 5. A miss: only signed URLs may generate (when signing is on).
    await requireSignature(config.urlSigningKey, query);

    // 6. HEAD never generates: it says what GET would serve, marked as not stored.
    if (isHead) return headOfMiss(key, seed);

    // 7. Charge the client (401 unknown key, 429 over the limit).
    const limitHeaders = await chargeGeneration(deps, c);

    // 8. One generation per key, validated and stored before we answer.
    const image = await deps.generator.generate(generationJob(key, request, config.gpu));
    inBackground(c, deps.cache.put(contentUrl, { body: image.png, size: image.png.byteLength, seed }));
    const outcome = !image.stored ? 'not-stored' : image.alreadyStored ? 'coalesced' : 'generated';
    return imageResponse({ key, seed, outcome, extraHeaders: limitHeaders }, image.png, image.png.byteLength);
  };
}

/**
 * With URL_SIGNING_KEY set, only signed URLs may make the service generate (403 otherwise). Reads of
 * stored pictures never get here, so they need no signature.
 */
async function requireSignature(signingKey: string | undefined, query: ImageQuery): Promise<void> {
  if (signingKey === undefined) return;
  const valid = query.sig !== undefined && (await verifySignature(signingKey, query.signed, query.sig));
  if (!valid) throw signatureRequired(query.sig !== undefined);
}

/**
 * `seed=random`: 302 to the canonical URL of one concrete picture (every parameter spelled out, signed
 * again when signing is on), so the result can be cached and shared. The redirect itself must not be
 * cached (RFC 9111 §5.2.2.5 no-store): the next `seed=random` is another picture.
 */
async function redirectToSeed(request: UnseededImageRequest, seed: number, config: EdgeConfig): Promise<Response> {
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
  if (config.urlSigningKey !== undefined) params.push(['sig', await signParams(config.urlSigningKey, params)]);
  const query = params.map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join('&');
  return new Response(null, {
    status: 302,
    headers: { ...CORS_HEADERS, Location: `/v1/images?${query}`, 'Cache-Control': 'no-store' },
  });
}

/** What a GET would answer, minus the body and its length; not cacheable, as nothing is stored yet. */
function headOfMiss(key: string, seed: number): Response {
  const headers = imageHeaders({ key, seed, outcome: 'miss' });
  headers.set('Cache-Control', 'no-store');
  return new Response(null, { status: 200, headers });
}
