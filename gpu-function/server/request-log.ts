// One JSON log line and one `http_requests_total` count per request. Probes that succeed (/ping,
// /healthz, /metrics) are counted but not logged: a platform polls them every few seconds.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';

/** Paths that label `http_requests_total` as themselves; anything else is `other` (bounded cardinality). */
export const ROUTES = ['/v1/generate', '/v1/tokenize', '/v1/model', '/ping', '/healthz', '/metrics'] as const;
const PROBES = new Set<string>(['/ping', '/healthz', '/metrics']);
const REQUEST_ID = /^[\w.:@-]{1,128}$/;

export function requestLog(log: Logger, metrics: ServiceMetrics): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const arrivedAt = performance.now();
    const sent = c.req.header('X-Request-Id');
    const requestId = sent !== undefined && REQUEST_ID.test(sent) ? sent : randomUUID();
    const logFields: Record<string, unknown> = {};
    c.set('requestId', requestId);
    c.set('arrivedAt', arrivedAt);
    c.set('logFields', logFields);
    await next();
    c.res.headers.set('X-Request-Id', requestId);

    const path = c.req.path;
    const method = c.req.method;
    const route = (ROUTES as readonly string[]).includes(path) ? path : 'other';
    const finish = (status: number): void => {
      metrics.requests.inc({ route, method, status: String(status) });
      if (PROBES.has(path) && status < 400) return;
      log(status >= 500 && status !== 503 && status !== 504 ? 'error' : 'info', 'request', {
        id: requestId,
        method,
        path: path.slice(0, 200),
        status,
        ms: Math.round((performance.now() - arrivedAt) * 10) / 10,
        ...logFields,
      });
    };
    // A streamed answer is counted and logged once it ends, with the status it ended in.
    const streamStatus = c.get('streamStatus');
    if (streamStatus === undefined) finish(c.res.status);
    else void streamStatus.then(finish);
  };
}
