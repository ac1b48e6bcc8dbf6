// The Worker: parses the configuration once per isolate, builds the app with the Workers pieces
// (R2, Cache API, Durable Objects) and exports the Durable Object classes wrangler.toml binds.
import type { Hono } from 'hono';
import { createApp } from './app';
import { ConfigError, parseConfig } from './config/config';
import { problemResponse } from './errors/problem-response';
import { internalError } from './errors/problems';
import { log } from './log';
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
