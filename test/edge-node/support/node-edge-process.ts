// `npm run start:edge:node` as an operator runs it: edge/node/main.ts in its own process (through tsx),
// configured by environment variables only, its JSON log lines collected as they come.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '../../..');

export interface NodeEdgeProcess {
  readonly child: ChildProcess;
  /** Log lines as parsed JSON (stdout and stderr); a line that is not JSON as `{ text }`. */
  readonly lines: Record<string, unknown>[];
  /** Every line as printed (to check what must never appear). */
  readonly raw: string[];
  /** The first line of that event, logged already or still to come; rejects if the process exits first. */
  next(event: string): Promise<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
}

/** Starts the Node edge with exactly `env` (plus PATH). Kill it with `child.kill` when done. */
export function spawnNodeEdge(env: Record<string, string>): NodeEdgeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'edge/node/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const waiters: { event: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (text) => {
      raw.push(text);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { text };
      }
      lines.push(line);
      for (const w of waiters.filter((w) => w.event === line.event)) w.resolve(line);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    raw,
    exited,
    next: (event) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => l.event === event);
        if (seen !== undefined) return resolve(seen);
        waiters.push({ event, resolve });
        void exited.then((code) => reject(new Error(`exited ${code} before "${event}": ${raw.join('\n')}`)));
      }),
  };
}
