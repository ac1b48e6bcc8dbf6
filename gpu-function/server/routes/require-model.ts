// The /v1 work routes need the warm model: while it loads they answer 503 + Retry-After (the edge
// retries), and once SIGTERM came they refuse new work so the instance can drain.
import { modelLoading, shuttingDown } from '../problems';
import type { ServiceState, ServingModel } from '../service-state';

export function requireModel(state: ServiceState): ServingModel {
  const { phase, model } = state;
  if (phase === 'draining' || phase === 'failed') throw shuttingDown();
  if (phase !== 'ready' || model === undefined) throw modelLoading();
  return model;
}
