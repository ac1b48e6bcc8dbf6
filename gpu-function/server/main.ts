// The GPU function as a process (`npm run start:gpu`, the container's CMD): configuration from the
// environment, the service on HOST:PORT, and signals. SIGTERM (what Docker, Kubernetes, RunPod and
// Modal send before they stop a container) and SIGINT drain: no new work, queued and running requests
// finish, then exit 0 — or exit 1 when SHUTDOWN_GRACE_MS ran out first. A second signal exits at once.
// Exit 2: bad configuration; exit 1: the model could not be loaded, or the pipeline's worker thread
// crashed later (the service then reports itself failed, answers what it can, and exits so the platform
// starts a fresh instance).
import { ConfigError, configFromEnv, type GpuFunctionConfig } from '../config';
import { errorMessage, jsonLineLogger } from './logger';
import { startGpuFunction } from './service';

const startedAt = performance.now();
const log = jsonLineLogger();

let config: GpuFunctionConfig;
try {
  config = configFromEnv(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  log('error', 'invalid_config', { problems: error.problems });
  process.exit(2);
}

// Rejects when the port cannot be opened, or (LISTEN_WHEN_READY) when the model could not be loaded,
// which startup_failed has logged already.
const service = await startGpuFunction(config, { log, startedAt }).catch((error: unknown) => {
  log('error', 'start_failed', { host: config.host, port: config.port, error: errorMessage(error) });
  process.exit(1);
});
service.ready.catch(() => process.exit(1));

let stopping = false;
function stop(fields: Readonly<Record<string, unknown>>, exitCode?: number): void {
  stopping = true;
  log('info', 'shutdown', { ...fields, grace_ms: config.shutdownGraceMs });
  // A last resort should closing the server hang: exit shortly after the grace period regardless.
  setTimeout(() => process.exit(1), config.shutdownGraceMs + 5_000).unref();
  void service.shutdown().then(({ drained }) => process.exit(exitCode ?? (drained ? 0 : 1)));
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) {
      log('warn', 'forced_exit', { signal });
      process.exit(1);
    }
    stop({ signal });
  });
}
// pipeline_failed is logged already; queued requests get their 503s before the process goes.
void service.failed.then(() => {
  if (!stopping) stop({ reason: 'pipeline_failed' }, 1);
});
