// Polling with a way out: repeat a check until it holds, but give up at once when the process it is
// waiting for has exited (a model that cannot load must fail `npm start` now, not after a timeout).
import type { ExitStatus } from './child-process';

export class ExitedError extends Error {
  override readonly name = 'ExitedError';
  readonly status: ExitStatus;
  constructor(what: string, status: ExitStatus) {
    super(`${what} exited (${status.signal ?? `code ${status.code}`})`);
    this.status = status;
  }
}

export interface WaitOptions {
  /** Names the process in the error. */
  readonly what: string;
  readonly exited: Promise<ExitStatus>;
  /** @default 100 */
  readonly intervalMs?: number;
}

/** Resolves with the first non-undefined result of `check`; rejects with ExitedError if the process exits first. */
export async function waitUntil<T>(check: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  let exit: ExitStatus | undefined;
  void options.exited.then((status) => {
    exit = status;
  });
  for (;;) {
    if (exit !== undefined) throw new ExitedError(options.what, exit);
    const result = await check();
    if (result !== undefined) return result;
    await Promise.race([sleep(options.intervalMs ?? 100), options.exited]);
  }
}

/** fetch that answers undefined instead of throwing while nothing listens yet. */
export async function tryFetch(url: string, init?: RequestInit): Promise<Response | undefined> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
