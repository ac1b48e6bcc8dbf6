// The GPU function's HTTP API as a Hono app (docs/gpu-function.md, "HTTP API"): the work routes under
// /v1 behind the bearer token, /ping and /healthz open, /metrics open or behind METRICS_TOKEN (and, with
// METRICS_ON_HEALTH_PORT_ONLY, only on PORT_HEALTH), every error one RFC 9457 problem via onError.
import { Hono } from 'hono';
import type { AppEnv } from './app-env';
import { bearerAuth } from './bearer-auth';
import { errorMessage, type Logger } from './logger';
import type { ServiceMetrics } from './metrics';
import { ProblemError, problemResponse } from '../../contract';
import { internalError, methodNotAllowed, notFound } from './problems';
import { requestLog } from './request-log';
import { generateHandler } from './routes/generate';
import { healthzHandler, metricsHandler, pingHandler } from './routes/health';
import { modelInfoHandler } from './routes/model-info';
import { tokenizeHandler } from './routes/tokenize';
import type { ServiceState } from './service-state';

export interface AppDeps {
  readonly state: ServiceState;
  readonly metrics: ServiceMetrics;
  readonly log: Logger;
  /** GPU_FUNCTION_TOKEN; undefined leaves /v1 open. */
  readonly token: string | undefined;
  /** METRICS_TOKEN; undefined leaves /metrics open. */
  readonly metricsToken: string | undefined;
  /** METRICS_ON_HEALTH_PORT_ONLY: /metrics only on the probes app (PORT_HEALTH), not on this one. */
  readonly metricsOnHealthPortOnly: boolean;
  /** REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs: number;
  /** Longest silence on a progress stream before a heartbeat comment. */
  readonly heartbeatMs: number;
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requestLog(deps.log, deps.metrics));
  app.use('/v1/*', bearerAuth(deps.token));

  app.post('/v1/generate', generateHandler(deps));
  app.post('/v1/tokenize', tokenizeHandler(deps.state));
  app.get('/v1/model', modelInfoHandler(deps.state));
  refuseOtherMethods(app, [
    ['/v1/generate', 'POST'],
    ['/v1/tokenize', 'POST'],
    ['/v1/model', 'GET, HEAD'],
  ]);
  addProbes(app, deps, !deps.metricsOnHealthPortOnly);
  return app;
}

/** The probes alone, for PORT_HEALTH when a platform checks health on a port of its own. */
export function createProbesApp(deps: Pick<AppDeps, 'state' | 'metrics' | 'log' | 'metricsToken'>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requestLog(deps.log, deps.metrics));
  addProbes(app, deps, true);
  return app;
}

function addProbes(app: Hono<AppEnv>, deps: Pick<AppDeps, 'state' | 'metrics' | 'log' | 'metricsToken'>, metrics: boolean): void {
  app.get('/ping', pingHandler(deps.state));
  app.get('/healthz', healthzHandler(deps.state));
  const probes: [string, string][] = [
    ['/ping', 'GET, HEAD'],
    ['/healthz', 'GET, HEAD'],
  ];
  if (metrics) {
    app.use('/metrics', bearerAuth(deps.metricsToken, { setting: 'METRICS_TOKEN', realm: 'metrics' }));
    app.get('/metrics', metricsHandler(deps.metrics));
    probes.push(['/metrics', 'GET, HEAD']);
  }
  refuseOtherMethods(app, probes);
  app.notFound((c) => problemResponse(notFound(`No route for ${c.req.path.slice(0, 200)}.`).problem));
  app.onError((error, c) => {
    if (error instanceof ProblemError) return problemResponse(error.problem);
    deps.log('error', 'unhandled_error', { id: c.var.requestId, error: errorMessage(error) });
    return problemResponse(internalError().problem);
  });
}

/** Known paths with the wrong method: 405 with Allow (RFC 9110 §15.5.6), not a 404. */
function refuseOtherMethods(app: Hono<AppEnv>, routes: readonly (readonly [string, string])[]): void {
  for (const [path, allow] of routes) {
    app.all(path, () => {
      throw methodNotAllowed(allow);
    });
  }
}
