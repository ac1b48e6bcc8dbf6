// The edge API as one Hono app, independent of the platform: everything platform-specific arrives
// in `deps` (see app-deps.ts). edge/worker.ts serves it on Workers; the Node port serves the same app.
import { Hono } from 'hono';
import type { AppDeps } from './app-deps';
import { mountDemoPage } from './demo/demo-routes';
import { onError } from './errors/on-error';
import { problemResponse } from './errors/problem-response';
import { methodNotAllowed, notFound } from './errors/problems';
import { PREFLIGHT_HEADERS } from './http/cors';
import { requestTargetLimit } from './middleware/request-target-limit';
import { IMAGE_BY_KEY_PATH, imageByKeyRoute } from './routes/image-by-key';
import { imagesRoute } from './routes/images';

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use(requestTargetLimit());

  mountDemoPage(app); // GET /, /demo.js, /demo.css

  app.get('/v1/images', imagesRoute(deps)); // HEAD is routed to GET handlers by Hono
  app.get(IMAGE_BY_KEY_PATH, imageByKeyRoute(deps));
  app.options('/v1/*', () => new Response(null, { status: 204, headers: PREFLIGHT_HEADERS }));
  app.all('/v1/images', () => {
    throw methodNotAllowed('GET, HEAD, OPTIONS');
  });

  app.notFound((c) => problemResponse(notFound(`Nothing here: ${new URL(c.req.url).pathname}`).problem));
  app.onError(onError);
  return app;
}
