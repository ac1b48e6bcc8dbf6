// The edge API as one Hono app, independent of the platform: everything platform-specific arrives in
// `deps` — R2, the Cache API and Durable Objects from edge/worker.ts; S3, an in-memory LRU and
// in-process limiting and coalescing from edge/node/. The path of a request, in order:
//   edge/request/     the query read strictly and resolved (image-query.ts), its content key
//   edge/routes/      images.ts: the numbered steps of GET /v1/images; image-by-key.ts: the read path;
//                     progress.ts: GET /v1/progress, a generation's events
//   edge/rate-limit/  a miss charged to its client
//   edge/generation/  one GPU call per key (gpu-client.ts), the PNG checked, stored before the answer
//   edge/responses.ts, edge/problems.ts   what the client gets back; an error as a picture for an
//                                         <img> (edge/error-picture.ts), problem+json for the rest
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ProblemError, type ProblemInit } from '../contract';
import type { EdgeConfig } from './config';
import { ERROR_VARY, errorPictureResponse, pictureSizeFor } from './error-picture';
import type { ImageGenerator } from './generation/image-generator';
import { log } from './log';
import { internalError, methodNotAllowed, notFound, problemResponse, uriTooLong } from './problems';
import type { RateLimiter } from './rate-limit/charge-generation';
import { wantsPicture } from './request/wants-picture';
import { PREFLIGHT_HEADERS } from './responses';
import { IMAGE_BY_KEY_PATH, imageByKeyRoute } from './routes/image-by-key';
import { imagesRoute } from './routes/images';
import { progressRoute } from './routes/progress';
import { mountPages } from './routes/pages';
import type { ImageCache, ImageStore } from './storage';

/** What createApp needs: the configuration and the platform's pieces behind small interfaces. */
export interface AppDeps {
  readonly config: EdgeConfig;
  /** Durable home of the pictures (R2 / S3). */
  readonly store: ImageStore;
  /** Fast path in front of the store (Cache API / LRU). */
  readonly cache: ImageCache;
  /** Per-client generation budget (Durable Object / in-process). */
  readonly rateLimiter: RateLimiter;
  /** Makes, validates and stores a picture, one GPU call per key (Durable Object / in-process). */
  readonly generator: ImageGenerator;
  /** The client's address where no CF-Connecting-IP header is set (Node: the socket peer). */
  readonly clientAddress?: (c: Context) => string | undefined;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use(requestTargetLimit());

  mountPages(app, deps.config); // GET /, /demo.js, /demo.css, /docs, /openapi.json

  app.get('/v1/images', imagesRoute(deps)); // HEAD is routed to GET handlers by Hono
  app.get(IMAGE_BY_KEY_PATH, imageByKeyRoute(deps));
  app.get('/v1/progress', progressRoute(deps));
  app.options('/v1/*', () => new Response(null, { status: 204, headers: PREFLIGHT_HEADERS }));
  app.all('/v1/images', () => {
    throw methodNotAllowed('GET, HEAD, OPTIONS');
  });

  const answer = errorAnswer(deps.config);
  app.notFound((c) => answer(c, notFound(`Nothing here: ${new URL(c.req.url).pathname}`).problem));
  app.onError((error, c) => answer(c, problemOf(error, c)));
  return app;
}

/**
 * 16 KiB: Cloudflare's own URL limit, so the Worker behaves the same in front of and behind it; a
 * 1000-character prompt fits even fully percent-encoded CJK (≈ 9 KB).
 */
const MAX_REQUEST_TARGET_BYTES = 16 * 1024;

/** 414 URI Too Long (RFC 9110 §15.5.15) for a request target over the limit, before anything parses it. */
function requestTargetLimit(maxBytes: number = MAX_REQUEST_TARGET_BYTES): MiddlewareHandler {
  return async function requestTargetLimit(c, next) {
    const url = c.req.url;
    // The URL is ASCII once parsed (non-ASCII is percent-encoded), so length is bytes.
    const target = url.slice(url.indexOf('/', url.indexOf('//') + 2));
    if (target.length > maxBytes) throw uriTooLong(maxBytes);
    await next();
  };
}

/**
 * The app's single onError: a ProblemError becomes its problem; anything else is our bug (or a binding
 * failing), logged and answered as a bare 500 that reveals nothing internal.
 */
function problemOf(error: Error, c: Context): ProblemInit {
  if (error instanceof ProblemError) return error.problem;
  if (error instanceof HTTPException && error.status < 500) {
    return { type: 'about:blank', title: error.message || 'Bad Request', status: error.status };
  }
  log('error', 'unhandled', { path: new URL(c.req.url).pathname, error: `${error.name}: ${error.message}` });
  return internalError().problem;
}

/**
 * Every error in one of two forms: a picture for a client that displays it (an `<img>` shows the
 * reason instead of a broken-image icon, edge/error-picture.ts), problem+json for everyone else.
 */
function errorAnswer(config: EdgeConfig) {
  return function answerProblem(c: Context, problem: ProblemInit): Response {
    if (wantsPicture(c.req.raw.headers)) {
      return errorPictureResponse(problem, pictureSizeFor(new URL(c.req.url), config));
    }
    const response = problemResponse(problem);
    response.headers.set('Vary', ERROR_VARY);
    return response;
  };
}
