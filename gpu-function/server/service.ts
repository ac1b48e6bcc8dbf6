// The whole GPU function in one object: the HTTP server listens first (so /healthz and /ping answer
// during a long download), then the model loads and warms up in the background, and `shutdown()`
// drains it. main.ts wraps it in a process; tests and the bench start it in-process on a free port.
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { GpuFunctionConfig } from '../config';
import { createApp, createProbesApp } from './app';
import { loadModel, type LoadedModel } from './load-model';
import { errorMessage, type Logger } from './logger';
import { ServiceMetrics } from './metrics';
import { DEFAULT_HEARTBEAT_MS } from './routes/progress-stream-response';
import { ServiceState } from './service-state';

export interface StartOptions {
  readonly log: Logger;
  /** When the process started, for sd_startup_seconds. @default now */
  readonly startedAt?: number;
  /** Longest silence on a progress stream before a `: heartbeat` comment (tests shorten it). @default 15 s */
  readonly heartbeatMs?: number;
}

export interface ShutdownResult {
  /** True when every queued and running request finished within the grace period. */
  readonly drained: boolean;
  /** Requests still queued or running when the grace period ended. */
  readonly abandoned: number;
}

export interface GpuFunctionService {
  /** `http://<host>:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The PORT_HEALTH listener's URL (probes only), when one was asked for. */
  readonly healthUrl: string | undefined;
  readonly state: ServiceState;
  readonly metrics: ServiceMetrics;
  /** Settles when the model is loaded and warm (rejects when loading failed; the state is then `failed`). */
  readonly ready: Promise<void>;
  /**
   * Settles with the cause when the pipeline stops working after start-up — its worker thread crashed —
   * and the state turns `failed` (/ping 503, new work 503). Never settles otherwise. main.ts then drains
   * and exits 1, so the platform restarts the instance.
   */
  readonly failed: Promise<Error>;
  /** Stops taking work, finishes what is queued and running (at most `graceMs`), closes the server. */
  shutdown(graceMs?: number): Promise<ShutdownResult>;
}

export async function startGpuFunction(config: GpuFunctionConfig, options: StartOptions): Promise<GpuFunctionService> {
  const { log } = options;
  const startedAt = options.startedAt ?? performance.now();
  const state = new ServiceState();
  const metrics = new ServiceMetrics({
    maxBatchSize: config.batching.maxBatchSize,
    queueDepth: () => state.model?.batcher.size ?? 0,
    running: () => state.model?.batcher.running ?? 0,
  });
  const app = createApp({
    state,
    metrics,
    log,
    token: config.token,
    metricsToken: config.metricsToken,
    metricsOnHealthPortOnly: config.metricsOnHealthPortOnly,
    requestTimeoutMs: config.requestTimeoutMs,
    heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
  });
  let loaded: LoadedModel | undefined;
  let reportFailure!: (error: Error) => void;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
  const load = (): Promise<void> =>
    loadModel(config, { log, metrics, onWarming: (model) => state.warming(model) }).then(
      (model) => {
        loaded = model;
        state.ready();
        const seconds = (performance.now() - startedAt) / 1000;
        metrics.startupSeconds.set(seconds);
        log('info', 'ready', { model: model.identity.model, provider: model.provider, startup_ms: Math.round(seconds * 1000) });
        void model.crashed.then((error) => {
          // The batch it was running has failed with this error; what is queued fails fast with 503s.
          state.failed();
          log('error', 'pipeline_failed', { error: errorMessage(error) });
          reportFailure(error);
        });
      },
      (error: unknown) => {
        state.failed();
        log('error', 'startup_failed', { error: errorMessage(error) });
        throw error;
      },
    );
  // LISTEN_WHEN_READY: the port opens warm (platforms that hold requests until the port accepts, as
  // Modal's web servers do, then never see a 503 for loading). Otherwise it opens first, so /healthz
  // and /ping (204) answer during a long download.
  if (config.listenWhenReady) await load();

  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const url = urlOf(config.host, port);
  let healthServer: Server | undefined;
  let healthUrl: string | undefined;
  if (config.healthPort !== undefined) {
    healthServer = createAdaptorServer({ fetch: createProbesApp({ state, metrics, log, metricsToken: config.metricsToken }).fetch }) as Server;
    await listen(healthServer, config.healthPort, config.host);
    healthUrl = urlOf(config.host, (healthServer.address() as AddressInfo).port);
  }
  log('info', 'listening', { url, health_url: healthUrl, auth: config.token !== undefined });
  const loading = config.listenWhenReady ? Promise.resolve() : load();
  loading.catch(() => undefined);

  let shuttingDown: Promise<ShutdownResult> | undefined;
  async function shutdown(graceMs: number = config.shutdownGraceMs): Promise<ShutdownResult> {
    const deadline = performance.now() + graceMs;
    state.draining();
    const model = state.model;
    let drained = true;
    let abandoned = 0;
    if (model !== undefined) {
      model.batcher.close();
      log('info', 'draining', { queue: model.batcher.describe(), grace_ms: graceMs });
      drained = await settlesWithin(model.batcher.onIdle(), deadline - performance.now());
      abandoned = drained ? 0 : model.batcher.size + model.batcher.running;
    }
    // Answers in flight are still being written: let them finish, up to the same deadline.
    await Promise.all([server, healthServer].map((s) => (s === undefined ? undefined : closeServer(s, deadline - performance.now()))));
    // Still loading (a download, a session being created): nothing to release yet, the process exits.
    if (loaded !== undefined && drained) await loaded.release();
    log(drained ? 'info' : 'warn', 'stopped', { drained, abandoned });
    return { drained, abandoned };
  }

  return {
    url,
    port,
    healthUrl,
    state,
    metrics,
    ready: loading,
    failed,
    shutdown(graceMs) {
      shuttingDown ??= shutdown(graceMs);
      return shuttingDown;
    },
  };
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

/**
 * Stops listening and waits for open connections: idle keep-alive connections are closed as they
 * become idle (a response finishing on one makes it idle), and whatever is left at the deadline is cut.
 */
async function closeServer(server: Server, ms: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  try {
    if (!(await settlesWithin(closed, ms))) {
      server.closeAllConnections();
      await closed;
    }
  } finally {
    clearInterval(sweep);
  }
}
