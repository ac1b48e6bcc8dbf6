// Probes, open without a token:
//   GET /ping    — readiness, RunPod's load-balancer convention: 204 while the model loads and warms up,
//                  200 when it takes work, 503 once it drains (SIGTERM) or failed, so no new work is
//                  routed here. Kubernetes readiness probes and Modal read it the same way.
//   GET /healthz — liveness: 200 while the process serves HTTP, whatever the model does (a slow
//                  download must not get the container killed), with the phase for humans.
//   GET /metrics — Prometheus text format.
import type { Handler } from 'hono';
import type { AppEnv } from '../app-env';
import type { ServiceMetrics } from '../metrics';
import type { ServiceState } from '../service-state';

export function pingHandler(state: ServiceState): Handler<AppEnv> {
  return function ping(c) {
    c.header('Cache-Control', 'no-store');
    switch (state.phase) {
      case 'ready':
        return c.json({ status: 'ready' }, 200);
      case 'loading':
      case 'warming':
        return c.body(null, 204);
      case 'draining':
      case 'failed':
        return c.json({ status: state.phase }, 503);
    }
  };
}

export function healthzHandler(state: ServiceState): Handler<AppEnv> {
  return function healthz(c) {
    return c.json({ status: 'alive', phase: state.phase }, 200, { 'Cache-Control': 'no-store' });
  };
}

export function metricsHandler(metrics: ServiceMetrics): Handler<AppEnv> {
  return async function metricsText(c) {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
  };
}
