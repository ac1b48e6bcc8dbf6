// One-line JSON logs (Workers Logs and `wrangler tail` index JSON fields). Callers pass only what is
// safe to keep: never secrets, never a prompt (hash it), never API keys.
import type { Context } from 'hono';

export type LogLevel = 'info' | 'warn' | 'error';

export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/**
 * Work that may finish after the answer (warming the cache). Workers keep the request alive for it
 * through ExecutionContext.waitUntil; on Node the promise simply runs on. Failures are only logged:
 * the answer was already right without it.
 */
export function inBackground(c: Context, task: Promise<unknown>): void {
  const logged = task.catch((error: unknown) => log('warn', 'background_failed', { error: String(error) }));
  try {
    c.executionCtx.waitUntil(logged);
  } catch {
    // No ExecutionContext (Node, app.request without one): nothing to extend.
  }
}
