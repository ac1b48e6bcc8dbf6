// GET /v1/progress?<the /v1/images query> — a server-sent event stream (WHATWG HTML §9.2) of that
// picture's generation: `queued` {position}, `step` {step, steps, eta_ms}, then `done` {url} or `error`
// {the problem} (docs/edge-api.md, "Progress"). The query is read and keyed exactly as /v1/images reads
// it, so the same URL names the same picture; watching never starts, signs or charges a generation. A
// stored picture is `done` at once; otherwise the stream attaches to the generation in flight for the
// key (the generation's Durable Object on Workers, the process's coalescing generator on Node), which
// fans one upstream progress stream out to every watcher.
import type { Context } from 'hono';
import type { AppDeps } from '../app';
import { invalidParameters } from '../problems';
import { contentPath } from '../request/content-key';
import { createImageQueryReader } from '../request/image-query';
import { createRequestResolver } from '../request/resolve-request';
import { CORS_HEADERS } from '../responses';
import { formatWatchEvent } from '../generation/generation-progress';
import { readStore } from '../storage';

/**
 * How long a watcher waits for a generation to start when none is in flight: a page sets an <img>'s
 * src and opens the progress stream together, and the picture's request may reach the edge second.
 */
export const PROGRESS_START_WAIT_MS = 10_000;

export function progressRoute(deps: AppDeps) {
  const { config } = deps;
  // Keyed exactly as /v1/images keys a query, remembering recent query strings (resolve-request.ts).
  const resolveRequest = createRequestResolver(createImageQueryReader(config.models, config.defaultModel));

  return async function getProgress(c: Context): Promise<Response> {
    const url = new URL(c.req.url);
    const { key } = await resolveRequest(url.search);
    if (key === undefined) {
      // A new picture each time: no single generation to watch. Its redirect names one.
      throw invalidParameters([
        { param: 'seed', message: 'seed=random names no single picture; watch the URL its /v1/images redirect names' },
      ]);
    }
    const contentUrl = new URL(contentPath(key), url).toString();
    const stored = await readStore('head', key, () => deps.store.head(key));
    const body =
      stored !== null
        ? formatWatchEvent({ event: 'done', data: { url: contentUrl } })
        : await deps.generator.watch(key, { url: contentUrl, waitMs: PROGRESS_START_WAIT_MS });
    return new Response(body, {
      status: 200,
      headers: {
        ...CORS_HEADERS,
        'Content-Type': 'text/event-stream; charset=utf-8',
        // Progress is of this moment: never stored by a cache (RFC 9111 §5.2.2.5); nginx must not buffer it.
        'Cache-Control': 'no-store',
        'X-Accel-Buffering': 'no',
      },
    });
  };
}
