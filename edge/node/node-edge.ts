// The edge as a Node HTTP server: the same Hono app as the Worker (edge/app.ts) on
// @hono/node-server, wired to S3 and the in-process pieces (node-deps.ts). main.ts runs it from the
// environment; tests start it on a free port. close() drains: it stops accepting connections, lets
// requests and generations in flight finish (a generated picture is stored, not lost), and cuts
// whatever is left when the timeout runs out.
import type { Server, ServerOptions } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { serve } from '@hono/node-server';
import { createApp } from '../app';
import { log } from '../log';
import type { NodeEdgeConfig } from './node-config';
import { type NodeDeps, nodeDeps, withoutUntrustedClientHeaders } from './node-deps';
import { isMisconfiguration, S3StoreError } from './s3/s3-errors';
import { checkBucket, createS3Client } from './s3/s3-image-store';

/** The largest request head (request line and headers) Node reads, as workerd. */
const MAX_REQUEST_HEAD_BYTES = 64 * 1024;

export interface NodeEdgeOptions {
  /** An S3 client to use instead of one built from config.s3 (it is then not destroyed on close). */
  readonly s3Client?: S3Client;
}

export interface NodeEdge {
  /** `http://<host>:<port>` it listens on. */
  readonly url: string;
  readonly deps: NodeDeps;
  /** Stops accepting, drains for at most `timeoutMs` (config.shutdownTimeoutMs), then closes everything. */
  close(timeoutMs?: number): Promise<void>;
}

export async function startNodeEdge(config: NodeEdgeConfig, options: NodeEdgeOptions = {}): Promise<NodeEdge> {
  const s3 = options.s3Client ?? createS3Client(config.s3);
  try {
    await checkStore(s3, config.s3.bucket);
  } catch (error) {
    if (options.s3Client === undefined) s3.destroy();
    throw error;
  }
  const deps = nodeDeps(config, s3);
  const app = createApp(deps);
  const trusted = config.clientIpHeader;

  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve({
      fetch: async (request, env) => {
        const response = await app.fetch(withoutUntrustedClientHeaders(request, trusted), env);
        limitStall(env.incoming.socket, config.clientTimeoutMs);
        return response;
      },
      hostname: config.listen.host,
      port: config.listen.port,
      serverOptions: serverOptions(config.clientTimeoutMs),
    }) as Server;
    created.once('listening', () => resolve(created));
    created.once('error', reject);
  });
  // Past the cap Node closes a new connection as it arrives (net.Server maxConnections); a client
  // opening connections it never uses cannot take every file descriptor.
  if (config.maxConnections > 0) server.maxConnections = config.maxConnections;
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    deps,
    close(timeoutMs = config.shutdownTimeoutMs) {
      closing ??= drain(server, deps, timeoutMs).finally(() => {
        if (options.s3Client === undefined) s3.destroy();
      });
      return closing;
    },
  };
}

/**
 * How long a client may take to send its request: Node's headersTimeout and requestTimeout (both
 * CLIENT_TIMEOUT_MS; a GET's request is its head), checked often enough to matter. Node refuses
 * request heads over 16 KiB with 431 before the app sees them; the Worker answers a target over
 * 16 KiB with 414 (requestTargetLimit in edge/app.ts) and workerd itself gives up near 64 KiB. Same
 * limits here, so the app's 414 is what clients get.
 */
function serverOptions(clientTimeoutMs: number): ServerOptions {
  const options: ServerOptions = { maxHeaderSize: MAX_REQUEST_HEAD_BYTES };
  if (clientTimeoutMs === 0) return options;
  return {
    ...options,
    headersTimeout: clientTimeoutMs,
    requestTimeout: clientTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(clientTimeoutMs / 4))),
  };
}

/**
 * Once the answer is ready, the client must keep reading it: a socket that makes no progress for
 * CLIENT_TIMEOUT_MS (a client that stopped reading, so the answer sits unsent) times out, and Node's
 * server destroys a socket that times out with no listener. Set only now, because waiting for a
 * generation (bounded by GPU_TIMEOUT_MS) is not the client's stall. After the answer Node applies its
 * keep-alive timeout, and clears it when the next request arrives.
 */
function limitStall(socket: Socket | null, clientTimeoutMs: number): void {
  if (clientTimeoutMs > 0 && socket !== null && !socket.destroyed) socket.setTimeout(clientTimeoutMs);
}

/**
 * A bucket that does not exist or credentials that are refused will not fix themselves: refuse to
 * start, saying which. A store that is merely unreachable may recover; start, and answer 503 meanwhile.
 */
async function checkStore(s3: S3Client, bucket: string): Promise<void> {
  try {
    await checkBucket(s3, bucket);
  } catch (error) {
    if (!(error instanceof S3StoreError) || isMisconfiguration(error.failure)) throw error;
    log('warn', 'store_unreachable', { error: String(error) });
  }
}

async function drain(server: Server, deps: NodeDeps, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections become idle once their answer is out; close them as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([Promise.all([closed, deps.generator.drained()]), timedOut]);
  clearInterval(sweep);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    log('warn', 'shutdown_timeout', { timeout_ms: timeoutMs, generations_running: deps.generator.running });
    server.closeAllConnections();
    await closed;
  }
}
