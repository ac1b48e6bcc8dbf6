// One JSON object per line on stdout (container platforms and log shippers index JSON fields).
// Callers pass only what is safe to keep: never a token, never a prompt (prompt_sha256 instead).
export type LogLevel = 'info' | 'warn' | 'error';

export type Logger = (level: LogLevel, event: string, fields?: Readonly<Record<string, unknown>>) => void;

/** Writes `{"time", "level", "event", …fields}` lines; errors go to stderr. */
export function jsonLineLogger(
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  err: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  return (level, event, fields = {}) => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, event, ...fields });
    (level === 'error' ? err : out)(line);
  };
}

/** The message of an error, for a log line (stack traces stay out of request logs). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
