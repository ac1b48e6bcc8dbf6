// The Node implementations of createApp's interfaces (edge/worker.ts's workersDeps is the Workers
// twin): S3 for the pictures, an in-memory LRU in place of the Cache API, and in-process rate limiting
// and coalescing in place of the Durable Objects — same interfaces, same arithmetic, one process.
//
// Who the client is, for the rate limit: the shared code charges CF-Connecting-IP when a request
// carries it, which is right on Cloudflare (Cloudflare sets it and strips any sent by the client) but
// on a bare Node host would let every client pick its own bucket by sending the header. So the Node
// edge trusts one header only when CLIENT_IP_HEADER names it (the proxy in front sets it:
// CF-Connecting-IP behind Cloudflare, X-Real-IP behind nginx, X-Forwarded-For behind most load
// balancers), drops CF-Connecting-IP otherwise, and falls back to the socket peer.
import type { IncomingMessage } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'hono';
import type { AppDeps } from '../app';
import {
  CoalescingGenerator,
  type GeneratedImage,
  type GenerationJob,
  type ImageGenerator,
  type WatchOptions,
} from '../generation/image-generator';
import { MemoryImageCache } from './memory-image-cache';
import { MemoryRateLimiter } from './memory-rate-limiter';
import type { NodeEdgeConfig } from './node-config';
import { S3ImageStore } from './s3/s3-image-store';

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

/**
 * The in-process generator wrapped so shutdown can wait for generations still running — including
 * those whose client hung up — and a picture the GPU already made is stored rather than lost.
 */
export class DrainableGenerator implements ImageGenerator {
  readonly #inner: CoalescingGenerator;
  readonly #running = new Set<Promise<GeneratedImage>>();

  constructor(inner: CoalescingGenerator) {
    this.#inner = inner;
  }

  generate(job: GenerationJob): Promise<GeneratedImage> {
    const running = this.#inner.generate(job);
    this.#running.add(running);
    const forget = () => this.#running.delete(running);
    running.then(forget, forget);
    return running;
  }

  /** A join waits for a generation already tracked by the caller that started it. */
  join(key: string): Promise<GeneratedImage | undefined> {
    return this.#inner.join(key);
  }

  watch(key: string, options: WatchOptions): Promise<ReadableStream<Uint8Array>> {
    return this.#inner.watch(key, options);
  }

  /** Watchers of `key` now (CoalescingGenerator.watching). */
  watching(key: string): number {
    return this.#inner.watching(key);
  }

  /** Generations not settled yet (coalesced calls count once per caller). */
  get running(): number {
    return this.#running.size;
  }

  /** Resolves once every generation started so far (and any started meanwhile) has settled. */
  async drained(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}

const CF_CONNECTING_IP = 'cf-connecting-ip';

/** The request as the app may see it: without a CF-Connecting-IP that nobody trusted vouches for. */
export function withoutUntrustedClientHeaders(request: Request, trustedHeader: string | undefined): Request {
  if (trustedHeader?.toLowerCase() === CF_CONNECTING_IP || !request.headers.has(CF_CONNECTING_IP)) return request;
  const headers = new Headers(request.headers);
  headers.delete(CF_CONNECTING_IP);
  return new Request(request, { headers });
}

/** AppDeps.clientAddress for Node: the trusted header's address, else the socket peer. */
export function clientAddressResolver(trustedHeader: string | undefined): (c: Context) => string | undefined {
  return function clientAddress(c: Context): string | undefined {
    if (trustedHeader !== undefined) {
      const value = c.req.header(trustedHeader);
      // X-Forwarded-For lists every hop; only the last one was added by the proxy we trust.
      const address = value?.split(',').at(-1)?.trim();
      if (address) return address;
    }
    return peerAddress(c);
  };
}

function peerAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const address = incoming?.socket.remoteAddress;
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2).
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
