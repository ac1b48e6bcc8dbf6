// The Worker: parses the configuration once per isolate, builds the app with the Workers pieces (R2,
// the Cache API and Durable Objects, edge/cloudflare/) and exports the Durable Object classes
// wrangler.toml binds.
import type { Hono } from 'hono';
import { type AppDeps, createApp } from './app';
import { DurableImageGenerator, DurableRateLimiter } from './cloudflare/durable-objects';
import { CacheApiImageCache, R2ImageStore } from './cloudflare/storage';
import { ConfigError, type EdgeConfig, parseConfig } from './config';
import { log } from './log';
import { internalError, problemResponse } from './problems';

export { GenerationCoordinator, RateLimitBucket } from './cloudflare/durable-objects';

let app: Hono | undefined;

/** The Workers implementations of createApp's interfaces, built from the Worker's bindings. */
export function workersDeps(env: Env, config: EdgeConfig): AppDeps {
  return {
    config,
    store: new R2ImageStore(env.IMAGES),
    cache: new CacheApiImageCache(caches.default),
    rateLimiter: new DurableRateLimiter(env.RATE_LIMITS),
    generator: new DurableImageGenerator(env.GENERATIONS),
  };
}

function appFor(env: Env): Hono {
  // env is fixed for the life of an isolate, so one parse serves every request.
  app ??= createApp(workersDeps(env, parseConfig(env as unknown as Record<string, unknown>)));
  return app;
}

export default {
  fetch(request, env, ctx) {
    try {
      return appFor(env).fetch(request, env, ctx);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // The operator's mistake, not the client's: say so in the log (names only, no values).
      log('error', 'invalid_configuration', { message: error.message });
      return problemResponse({ ...internalError().problem, detail: 'The service is misconfigured.' });
    }
  },
} satisfies ExportedHandler<Env>;
