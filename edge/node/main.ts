// `npm run start:edge:node`: the edge on Node with S3 storage, for hosts that are not Cloudflare.
// Reads the environment once (docs/edge-configuration.md, docs/storage.md), listens on
// HOST:PORT (127.0.0.1:8787), and on SIGTERM/SIGINT drains before exiting; a second signal exits
// at once. Exit status 1: the configuration or the bucket is wrong (the log line says which setting).
// Without MODELS it first reads the model profile from GPU_FUNCTION_URL (GET /v1/model), waiting while
// the GPU function starts: `model_unavailable` and exit 1 when it answers something waiting won't fix.
import { ConfigError, expectedModelHeader } from '../config';
import { GpuModelInfoError } from '../generation/gpu-model-profile';
import { log } from '../log';
import { S3StoreError } from './s3/s3-errors';
import { parseNodeConfig, withModelsFromGpuFunction } from './node-config';
import { type NodeEdge, startNodeEdge } from './node-edge';

async function main(): Promise<void> {
  let edge: NodeEdge;
  try {
    const env = await withModelsFromGpuFunction(process.env, (reason, waitMs) =>
      log('info', 'waiting_for_model', { reason, wait_ms: waitMs }),
    );
    const config = parseNodeConfig(env);
    edge = await startNodeEdge(config);
    const model = expectedModelHeader(config.edge.defaultModel);
    log('info', 'listening', { url: edge.url, model, bucket: config.s3.bucket, endpoint: config.s3.endpoint ?? 'aws' });
  } catch (error) {
    if (error instanceof ConfigError) log('error', 'invalid_configuration', { message: error.message });
    else if (error instanceof GpuModelInfoError) log('error', 'model_unavailable', { message: error.message });
    else if (error instanceof S3StoreError) log('error', 'storage_misconfigured', { message: error.message });
    else log('error', 'start_failed', { error: String(error) });
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log('warn', 'shutdown_forced', { signal });
      process.exit(1);
    }
    stopping = true;
    log('info', 'shutting_down', { signal });
    edge.close().then(
      () => {
        log('info', 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log('error', 'shutdown_failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

await main();
