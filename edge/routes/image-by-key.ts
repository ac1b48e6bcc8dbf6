// GET|HEAD /v1/images/<key>.png — a stored picture by its content key (the Content-Location of
// every picture answer). Never generates: a key that is not stored is a 404. Only 64 lower-case hex
// digits are a key; the router sends anything else to the 404 handler.
import type { Context } from 'hono';
import type { AppDeps } from '../app-deps';
import { notFound } from '../errors/problems';
import { ifNoneMatchIsAny, ifNoneMatchLists } from '../http/conditional';
import { imageHeadResponse, imageResponse, notModifiedResponse } from '../http/image-response';
import { findImage } from './find-image';

export const IMAGE_BY_KEY_PATH = '/v1/images/:file{[0-9a-f]{64}\\.png}';

export function imageByKeyRoute(deps: AppDeps) {
  return async function getImageByKey(c: Context): Promise<Response> {
    const url = new URL(c.req.url);
    const key = c.req.param('file')?.slice(0, 64) ?? '';
    const ifNoneMatch = c.req.header('If-None-Match');
    const conditional = ifNoneMatchLists(ifNoneMatch, key) || ifNoneMatchIsAny(ifNoneMatch);
    const withBody = c.req.method !== 'HEAD' && !conditional;
    const found = await findImage(deps, c, key, url.origin + url.pathname, withBody);
    if (found === null) throw notFound(`No picture is stored under ${key}.`);
    const answer = { key, seed: found.seed, outcome: found.outcome };
    if (conditional) return notModifiedResponse(answer);
    return found.body === undefined ? imageHeadResponse(answer, found.size) : imageResponse(answer, found.body, found.size);
  };
}
