// The Worker: parses the configuration once per isolate, builds the app with the Workers pieces
// (R2, Cache API, Durable Objects) and exports the Durable Object classes wrangler.toml binds.
import type { Hono } from 'hono';
import { createApp } from './app';
import { parseConfig } from './config/config';
import { workersDeps } from './worker-deps';

export { GenerationCoordinator } from './generation/durable-image-generator';
export { RateLimitBucket } from './rate-limit/durable-rate-limiter';

let app: Hono | undefined;

function appFor(env: Env): Hono {
  // env is fixed for the life of an isolate, so one parse serves every request.
  app ??= createApp(workersDeps(env, parseConfig(env as unknown as Record<string, unknown>)));
  return app;
}

export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
