// The Workers implementations of createApp's interfaces, built from the Worker's bindings.
import type { AppDeps } from './app-deps';
import { CacheApiImageCache } from './cache/cache-api-image-cache';
import type { EdgeConfig } from './config/config';
import { DurableImageGenerator } from './generation/durable-image-generator';
import { DurableRateLimiter } from './rate-limit/durable-rate-limiter';
import { R2ImageStore } from './storage/r2-image-store';

export function workersDeps(env: Env, config: EdgeConfig): AppDeps {
  return {
    config,
    store: new R2ImageStore(env.IMAGES),
    cache: new CacheApiImageCache(caches.default),
    rateLimiter: new DurableRateLimiter(env.RATE_LIMITS),
    generator: new DurableImageGenerator(env.GENERATIONS),
  };
}
