// `scripts/start.ts` (what `npm start` runs) as a child process of a test: its output collected line by
// line, a way to wait for a line, and its exit. Spawned through `node --import tsx` directly, so a
// signal the test sends reaches it as a terminal's Ctrl-C would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { baseEnv, ROOT } from './stack-processes';

export interface StartScript {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr lines, in arrival order. */
  readonly output: string[];
  /** The first output line (already seen or still to come) that matches; rejects if the script exits first. */
  waitForLine(pattern: RegExp): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * An environment for start.ts with its own temporary folder, Hugging Face cache and edge state under
 * `scratch`, free ports, the CPU provider, plus `settings`. `tmp` is where it writes its secrets file.
 */
export function startScriptEnv(
  scratch: string,
  name: string,
  settings: Record<string, string>,
): { env: Record<string, string>; tmp: string } {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  const [tmp, hf, state] = ['tmp', 'hf', 'state'].map((sub) => join(dir, sub)) as [string, string, string];
  for (const sub of [tmp, hf, state]) mkdirSync(sub);
  const env = {
    ...baseEnv(),
    TMPDIR: tmp,
    HF_HOME: hf,
    EDGE_STATE_DIR: state,
    GPU_PORT: '0',
    EDGE_PORT: '0',
    EXECUTION_PROVIDER: 'cpu',
    WRANGLER_SEND_METRICS: 'false',
    ...settings,
  };
  return { env, tmp };
}

export function runStartScript(env: Readonly<Record<string, string>>): StartScript {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      for (const waiter of [...waiters]) {
        const match = waiter.pattern.exec(line);
        if (match !== null) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    });
  }
  // 'close': exited, and both pipes read to the end.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    pid: child.pid!,
    output,
    exited,
    waitForLine(pattern) {
      for (const line of output) {
        const match = pattern.exec(line);
        if (match !== null) return Promise.resolve(match);
      }
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then((status) =>
          reject(new Error(`start.ts exited (${JSON.stringify(status)}) before printing ${pattern}:\n${output.join('\n')}`)),
        );
      });
    },
  };
}
