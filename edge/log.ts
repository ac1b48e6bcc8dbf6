// One-line JSON logs (Workers Logs and `wrangler tail` index JSON fields). Callers pass only what is
// safe to keep: never secrets, never a prompt (use promptDigest), never API keys.
export type LogLevel = 'info' | 'warn' | 'error';

export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
