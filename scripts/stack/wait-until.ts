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
    // Raced against the exit: a check against a process that just died can stay unsettled forever.
    const checking = check();
    checking.catch(() => undefined); // once the process has exited, a late failure is of no interest
    const result = await Promise.race([checking, options.exited.then(() => undefined)]);
    if (exit !== undefined) throw new ExitedError(options.what, exit);
    if (result !== undefined) return result;
    await Promise.race([sleep(options.intervalMs ?? 100), options.exited]);
  }
}

/**
 * fetch that answers undefined instead of throwing while nothing listens yet.
 *
 * The time limit is a plain (ref'd) timer, not AbortSignal.timeout: that one's timer does not keep
 * Node alive, and undici can leave a fetch unsettled when the server's process dies mid-request; with
 * nothing else pending, Node then exits with code 13 (an unsettled top-level await) instead of
 * reporting why the start failed. Seen once in CI.
 */
export async function tryFetch(url: string, init?: RequestInit): Promise<Response | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
