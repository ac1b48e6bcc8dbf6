// What createApp needs: the configuration and the platform's pieces behind small interfaces, so the
// same app runs on Workers (edge/worker.ts wires R2, the Cache API and Durable Objects) and on Node
// (S3, an in-memory LRU, an in-process limiter and CoalescingGenerator).
import type { Context } from 'hono';
import type { ImageCache } from './cache/image-cache';
import type { EdgeConfig } from './config/config';
import type { ImageGenerator } from './generation/image-generator';
import type { RateLimiter } from './rate-limit/rate-limiter';
import type { ImageStore } from './storage/image-store';

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
