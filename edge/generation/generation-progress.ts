// What watchers of GET /v1/progress see of one generation in flight (docs/edge-api.md, "Progress"):
// the GPU function's queue position and denoising steps as the generation's own GPU call reports them
// (gpu-client.ts reads its progress stream), fanned out to every watcher of the key, so a thousand
// watchers still cost one generation and one upstream stream. A watcher that arrives late first gets
// the latest event, then the rest; one that leaves is forgotten at once.
import { HEARTBEAT, type ProblemInit } from '../../contract';

/** The events of GET /v1/progress (SSE `event:` name and one-line JSON `data:`). */
export type WatchEvent =
  | { readonly event: 'queued'; readonly data: { readonly position: number } }
  | { readonly event: 'step'; readonly data: { readonly step: number; readonly steps: number; readonly eta_ms: number } }
  | { readonly event: 'done'; readonly data: { readonly url: string } }
  | { readonly event: 'error'; readonly data: ProblemInit };

/** Where a generation's GPU call reports to (generateOnGpu). */
export interface ProgressReport {
  /** `position` requests are ahead of ours in the GPU function's queue. */
  queued(position: number): void;
  /** Denoising step `step` (1-based) of `steps` is finished. */
  step(step: number, steps: number): void;
}

export type WatchListener = (event: WatchEvent) => void;

/** What a generation's watchers are told: its progress, then that it settled (with its problem, if it failed). */
export type ProgressUpdate =
  | Extract<WatchEvent, { readonly event: 'queued' | 'step' }>
  | { readonly event: 'settled'; readonly problem: ProblemInit | undefined };

type UpdateListener = (update: ProgressUpdate) => void;

/** The running progress of one generation, and its watchers. */
export class GenerationProgress implements ProgressReport {
  readonly #now: () => number;
  readonly #listeners = new Set<UpdateListener>();
  #latest: ProgressUpdate | undefined;
  /** When the wait before the first step began: the last queue report, else the call's start. */
  #stepsFrom: number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#stepsFrom = now();
  }

  queued(position: number): void {
    this.#stepsFrom = this.#now();
    this.#publish({ event: 'queued', data: { position } });
  }

  step(step: number, steps: number): void {
    // The mean time per step so far (the first one includes text encoding) times the steps left; the
    // VAE decode after the last step is not counted.
    const perStep = (this.#now() - this.#stepsFrom) / step;
    const eta = Math.max(0, Math.round(perStep * (steps - step)));
    this.#publish({ event: 'step', data: { step, steps, eta_ms: eta } });
  }

  /** The generation is over: watchers are told, and later ones learn it at once. */
  settled(problem: ProblemInit | undefined): void {
    this.#publish({ event: 'settled', problem });
    this.#listeners.clear();
  }

  /** Calls `listener` with the latest update at once, then with every later one; returns how to stop. */
  subscribe(listener: UpdateListener): () => void {
    if (this.#latest !== undefined) listener(this.#latest);
    if (this.#latest?.event === 'settled') return () => {};
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Watchers attached now (a closed watcher is gone at once: test/edge-node/progress-watch.test.ts). */
  get watchers(): number {
    return this.#listeners.size;
  }

  #publish(event: ProgressUpdate): void {
    if (this.#latest?.event === 'settled') return;
    this.#latest = event;
    for (const listener of this.#listeners) listener(event);
  }
}

/** One event on the wire: its name, and its data as one line of JSON (JSON.stringify escapes line breaks). */
export function formatWatchEvent(event: WatchEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The longest silence on a progress stream before a `: heartbeat` comment (proxies close idle streams). */
export const HEARTBEAT_MS = 15_000;

/**
 * A server-sent event stream (WHATWG HTML §9.2) of `run`'s events: comments while `run` sends nothing
 * for `heartbeatMs`, closed when `run` settles. When the reader cancels (the watcher left), `left`
 * aborts and the heartbeat stops: `run` must let go of everything it holds then.
 */
export function watchEventStream(
  run: (send: WatchListener, left: AbortSignal) => Promise<void>,
  heartbeatMs: number = HEARTBEAT_MS,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const left = new AbortController();
  let heartbeat: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (left.signal.aborted) return;
        clearTimeout(heartbeat);
        controller.enqueue(encoder.encode(text));
        heartbeat = setTimeout(() => write(HEARTBEAT), heartbeatMs);
      };
      // A first comment, so the answer's headers and first bytes leave at once (some proxies hold both).
      write(': watching\n\n');
      const send = (event: WatchEvent) => write(formatWatchEvent(event));
      run(send, left.signal).then(
        () => finish(() => controller.close()),
        (error: unknown) => finish(() => controller.error(error)),
      );
      function finish(end: () => void) {
        clearTimeout(heartbeat);
        if (!left.signal.aborted) end();
        left.abort();
      }
    },
    cancel() {
      clearTimeout(heartbeat);
      left.abort();
    },
  });
}
