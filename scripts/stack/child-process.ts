// One child process of the local stack (the GPU function, wrangler dev): spawned in its own process
// group, its output handed over line by line, and stopped on request — a polite signal first, then
// SIGKILL to the whole group when it does not exit within a grace period.
//
// Why a process group of its own (`detached`): a terminal's Ctrl-C signals every process in the
// foreground group. Were the children in ours, the GPU function would get SIGINT from the terminal and
// then our SIGTERM on top, and it treats a second signal as "exit at once" (no drain). Detached, only
// `npm start` hears Ctrl-C and each child gets exactly one signal, from us.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export type OutputStream = 'stdout' | 'stderr';

export interface ChildProcessOptions {
  /** Shown in errors ("the GPU function exited …"). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The child's whole environment (nothing is inherited implicitly). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Every line the child writes, without its line break. */
  readonly onLine: (line: string, stream: OutputStream) => void;
}

export interface StopOptions {
  /** @default 'SIGTERM' */
  readonly signal?: NodeJS.Signals;
  /** How long to wait for the child to exit before SIGKILL of its process group. */
  readonly graceMs: number;
}

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the child has exited and its output has been read to the end. */
  readonly exited: Promise<ExitStatus>;
  #child: ChildProcess;
  #status: ExitStatus | undefined;

  constructor(options: ChildProcessOptions) {
    this.name = options.name;
    this.#child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.#child.on('error', () => undefined); // reported through `exited` below
    if (this.#child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
    this.pid = this.#child.pid;
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: this.#child[stream]!, crlfDelay: Infinity }).on('line', (line) => options.onLine(line, stream));
    }
    // 'close' comes after the exit and after both pipes have closed (every line has been read), even
    // when a pipe ends in an error; 'error' is a child that could not be spawned at all.
    this.exited = new Promise<ExitStatus>((resolve) => {
      this.#child.once('close', (code, signal) => resolve({ code, signal }));
      this.#child.once('error', () => resolve({ code: null, signal: null }));
    }).then((status) => {
      this.#status = status;
      return status;
    });
  }

  /** True until the child has exited. */
  get running(): boolean {
    return this.#status === undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Sends `signal`, waits up to `graceMs`, then kills the whole process group. Resolves on exit. */
  async stop({ signal = 'SIGTERM', graceMs }: StopOptions): Promise<ExitStatus> {
    if (this.running) this.#child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<'overdue'>((resolve) => {
      timer = setTimeout(() => resolve('overdue'), graceMs);
    });
    const first = await Promise.race([this.exited, overdue]);
    clearTimeout(timer);
    if (first !== 'overdue') return first;
    this.killGroup();
    return this.exited;
  }

  /**
   * SIGKILL to the child's process group: the child and whatever it started (wrangler's workerd).
   * Synchronous, so it also works from a process 'exit' handler.
   */
  killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is gone already.
    }
  }
}
