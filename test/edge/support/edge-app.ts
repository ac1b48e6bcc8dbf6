// Builds the edge app the way edge/worker.ts does (same config parser, same Workers pieces, same
// bindings), optionally with settings changed, and sends it requests with a real ExecutionContext
// whose waitUntil work (cache warming) is awaited, so the next request sees its effect.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createApp } from '../../../edge/app';
import { parseConfig } from '../../../edge/config';
import { workersDeps } from '../../../edge/worker';

export const ORIGIN = 'http://edge.test';

export interface EdgeClient {
  /** `origin`: where the request appears to be sent (its URL's scheme, Host and port); ORIGIN by default. */
  request(pathAndQuery: string, init?: RequestInit, origin?: string): Promise<Response>;
}

export function edgeApp(settings: Record<string, unknown> = {}): EdgeClient {
  const config = parseConfig({ ...(env as unknown as Record<string, unknown>), ...settings });
  const app = createApp(workersDeps(env, config));
  return {
    async request(pathAndQuery, init, origin = ORIGIN) {
      const ctx = createExecutionContext();
      const response = await app.request(`${origin}${pathAndQuery}`, init, env, ctx);
      // Read the body first: a response streamed from R2 is teed into the cache write.
      const bodyless = init?.method === 'HEAD' || response.status === 204 || response.status === 304;
      const body = bodyless ? null : await response.arrayBuffer();
      await waitOnExecutionContext(ctx);
      return new Response(body, { status: response.status, headers: response.headers });
    },
  };
}

/** `/v1/images?…` from parameters, encoded the way browsers do (space as %20). */
export function imagesPath(params: Record<string, string | number>): string {
  const query = Object.entries(params).map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(String(v))}`);
  return `/v1/images?${query.join('&')}`;
}
