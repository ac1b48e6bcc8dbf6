// `seed=random`: 302 to the canonical URL of one concrete picture (every parameter spelled out,
// signed again when signing is on), so the result can be cached and shared. The redirect itself
// must not be cached (RFC 9111 §5.2.2.5 no-store): the next `seed=random` is another picture.
import type { EdgeConfig } from '../config/config';
import { CORS_HEADERS } from '../http/cors';
import type { UnseededImageRequest } from '../params/image-request';
import { signParams } from '../signing/url-signature';

export async function redirectToSeed(request: UnseededImageRequest, seed: number, config: EdgeConfig): Promise<Response> {
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
