// The /v1 work routes need the warm model: while it loads they answer 503 + Retry-After (the edge
// retries), once SIGTERM came they refuse new work so the instance can drain, and once the pipeline
// failed (its worker thread crashed) they refuse it too.
import { modelLoading, pipelineUnavailable, shuttingDown } from '../problems';
import type { ServiceState, ServingModel } from '../service-state';

export function requireModel(state: ServiceState): ServingModel {
  const { phase, model } = state;
  if (phase === 'draining') throw shuttingDown();
  if (phase === 'failed') throw pipelineUnavailable();
  if (phase !== 'ready' || model === undefined) throw modelLoading();
  return model;
}
