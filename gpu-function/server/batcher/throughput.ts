// Recent throughput of the batcher, in seconds per unit of work, for the Retry-After of a full queue
// ("come back when the backlog ahead of you is done"). A unit is whatever the batcher's `costOf` says
// (the server uses steps × pixels), so one estimate covers small and large requests alike.

/** How many recent batches the estimate averages over. */
export const THROUGHPUT_WINDOW = 16;

export class ThroughputEstimate {
  readonly #window: { cost: number; ms: number }[] = [];
  readonly #size: number;

  constructor(size: number = THROUGHPUT_WINDOW) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError(`Expected a window of at least 1 batch, got ${size}`);
    this.#size = size;
  }

  /** A batch of `cost` units that took `ms` milliseconds. */
  record(cost: number, ms: number): void {
    if (!(cost > 0) || !(ms >= 0)) return;
    this.#window.push({ cost, ms });
    if (this.#window.length > this.#size) this.#window.shift();
  }

  /** Seconds per unit over the window; undefined before the first batch. */
  get secondsPerUnit(): number | undefined {
    if (this.#window.length === 0) return undefined;
    let cost = 0;
    let ms = 0;
    for (const batch of this.#window) {
      cost += batch.cost;
      ms += batch.ms;
    }
    return ms / 1000 / cost;
  }
}
