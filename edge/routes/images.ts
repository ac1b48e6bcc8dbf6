// GET|HEAD /v1/images?prompt=… — a picture by its description. Reads as the list of steps in
// The order of docs/edge-api.md: validate and resolve defaults, key, cache → store, and only on a miss: signature,
// client budget, one coalesced generation, stored before the answer.
import type { Context } from 'hono';
import type { AppDeps } from '../app-deps';
import { generationJob } from '../generation/generation-job';
import { inBackground } from '../http/background';
import { ifNoneMatchIsAny, ifNoneMatchLists } from '../http/conditional';
import { imageHeadResponse, imageHeaders, imageResponse, notModifiedResponse } from '../http/image-response';
import { contentKey, contentPath } from '../key/content-key';
import { derivedSeed, randomSeed } from '../key/derived-seed';
import type { ImageRequest } from '../params/image-request';
import { createImageQueryReader } from '../params/read-image-query';
import { chargeGeneration } from '../rate-limit/charge-generation';
import { requireSignature } from '../signing/require-signature';
import { findImage } from './find-image';
import { redirectToSeed } from './seed-redirect';

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
    const ifNoneMatch = c.req.header('If-None-Match');

    // 4. Cache API, then the image store. A hit is never signed, limited or generated.
    const conditional = ifNoneMatchLists(ifNoneMatch, key) || ifNoneMatchIsAny(ifNoneMatch);
    const found = await findImage(deps, c, key, contentUrl, !isHead && !conditional);
    if (found !== null) {
      const answer = { key, seed: found.seed, outcome: found.outcome };
      if (conditional) return notModifiedResponse(answer); // RFC 9110 §13.1.2
      return found.body === undefined ? imageHeadResponse(answer, found.size) : imageResponse(answer, found.body, found.size);
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

/** What a GET would answer, minus the body and its length; not cacheable, as nothing is stored yet. */
function headOfMiss(key: string, seed: number): Response {
  const headers = imageHeaders({ key, seed, outcome: 'miss' });
  headers.set('Cache-Control', 'no-store');
  return new Response(null, { status: 200, headers });
}
