// Work that may finish after the answer (warming the cache). Workers keep the request alive for it
// through ExecutionContext.waitUntil; on Node the promise simply runs on. Failures are only logged:
// the answer was already right without it.
import type { Context } from 'hono';
import { log } from '../log';

export function inBackground(c: Context, task: Promise<unknown>): void {
  const logged = task.catch((error: unknown) => log('warn', 'background_failed', { error: String(error) }));
  try {
    c.executionCtx.waitUntil(logged);
  } catch {
    // No ExecutionContext (Node, app.request without one): nothing to extend.
  }
}
