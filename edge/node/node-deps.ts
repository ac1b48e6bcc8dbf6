// The Node implementations of createApp's interfaces (edge/worker-deps.ts is the Workers twin):
// S3 for the pictures, an in-memory LRU in place of the Cache API, and in-process rate limiting and
// coalescing in place of the Durable Objects — same interfaces, same arithmetic, one process.
import type { S3Client } from '@aws-sdk/client-s3';
import type { AppDeps } from '../app-deps';
import { MemoryImageCache } from '../cache/memory-image-cache';
import { CoalescingGenerator } from '../generation/coalescing-generator';
import { MemoryRateLimiter } from '../rate-limit/memory-rate-limiter';
import { S3ImageStore } from '../storage/s3-image-store';
import { clientAddressResolver } from './client-address';
import { DrainableGenerator } from './drainable-generator';
import type { NodeEdgeConfig } from './node-config';

export interface NodeDeps extends AppDeps {
  readonly cache: MemoryImageCache;
  readonly generator: DrainableGenerator;
}

export function nodeDeps(config: NodeEdgeConfig, s3: S3Client): NodeDeps {
  const store = new S3ImageStore(s3, config.s3.bucket);
  return {
    config: config.edge,
    store,
    cache: new MemoryImageCache(config.imageCacheMaxBytes),
    rateLimiter: new MemoryRateLimiter(),
    generator: new DrainableGenerator(new CoalescingGenerator(store)),
    clientAddress: clientAddressResolver(config.clientIpHeader),
  };
}
