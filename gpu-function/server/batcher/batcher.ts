// Groups compatible work into batches for one device, the way Nx.Serving does (`batch_size` +
// `batch_timeout`): the first item of a batch waits at most `batchTimeoutMs` for up to
// `maxBatchSize - 1` companions with the same key, then the batch runs. One batch runs at a time
// (one model on one device); items with other keys wait their turn in arrival order, so nothing starves.
// The queue is bounded (QueueFullError carries a Retry-After estimated from recent throughput), every
// item can be withdrawn with an AbortSignal until its batch starts, and `close()` + `onIdle()` drain it
// for a graceful shutdown (p-queue's shape: #private state, documented options, TypeErrors at the edge).
import { QueueClosedError, QueueFullError } from './errors';
import { ThroughputEstimate } from './throughput';

export interface BatcherOptions<Item, Result> {
  /** Runs one batch (items sharing a key, in arrival order) and returns one result per item, in order. */
  readonly run: (items: readonly Item[]) => Promise<readonly Result[]>;
  /** Items with equal keys may share a batch. */
  readonly keyOf: (item: Item) => string;
  /** Most items in one batch. @default 4 */
  readonly maxBatchSize?: number;
  /** Longest wait of a batch's first item for companions, in ms; 0 runs whatever is there at once. @default 100 */
  readonly batchTimeoutMs?: number;
  /** Most items waiting (the running batch not counted); past it `add` rejects with QueueFullError. @default Infinity */
  readonly maxQueue?: number;
  /** An item's relative cost, for the Retry-After estimate. @default () => 1 */
  readonly costOf?: (item: Item) => number;
  /** Told when a batch starts (after it left the queue) and when it has settled. */
  readonly onBatchStart?: (batch: BatchInfo) => void;
  readonly onBatchEnd?: (batch: BatchInfo & { readonly ms: number; readonly ok: boolean }) => void;
}

export interface BatchInfo {
  readonly key: string;
  readonly size: number;
}

export interface AddOptions {
  /** Withdraws the item while it waits (add rejects with `signal.reason`); a running batch is not interrupted. */
  readonly signal?: AbortSignal | undefined;
  /** Told when the item's batch starts (from then on the signal no longer withdraws it). */
  readonly onStart?: (() => void) | undefined;
}

export interface Batched<Result> {
  readonly result: Result;
  /** Milliseconds from `add` to the start of the item's batch. */
  readonly waitedMs: number;
  /** Items in the batch the item ran in. */
  readonly batchSize: number;
}

/** Bounds of the Retry-After a full queue answers with, in seconds. */
export const MIN_RETRY_AFTER_SECONDS = 1;
export const MAX_RETRY_AFTER_SECONDS = 600;

const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry<Item, Result> {
  readonly item: Item;
  readonly key: string;
  readonly cost: number;
  readonly addedAt: number;
  readonly resolve: (value: Batched<Result>) => void;
  readonly reject: (reason: unknown) => void;
  /** Detaches the abort listener and tells the caller its batch starts. */
  readonly start: () => void;
}

export class Batcher<Item, Result> {
  readonly #run: BatcherOptions<Item, Result>['run'];
  readonly #keyOf: (item: Item) => string;
  readonly #costOf: (item: Item) => number;
  readonly #maxBatchSize: number;
  readonly #batchTimeoutMs: number;
  readonly #maxQueue: number;
  readonly #onBatchStart: BatcherOptions<Item, Result>['onBatchStart'];
  readonly #onBatchEnd: BatcherOptions<Item, Result>['onBatchEnd'];
  readonly #throughput = new ThroughputEstimate();
  #waiting: Entry<Item, Result>[] = [];
  #running: { entries: readonly Entry<Item, Result>[]; startedAt: number } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: BatcherOptions<Item, Result>) {
    if (typeof options?.run !== 'function') throw new TypeError('Expected `run` to be a function');
    if (typeof options.keyOf !== 'function') throw new TypeError('Expected `keyOf` to be a function');
    const maxBatchSize = options.maxBatchSize ?? 4;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new TypeError(`Expected \`maxBatchSize\` to be an integer from 1, got \`${maxBatchSize}\``);
    }
    const batchTimeoutMs = options.batchTimeoutMs ?? 100;
    // setTimeout fires at once for delays past 2^31 - 1 ms, which would turn a long wait into none.
    if (!Number.isFinite(batchTimeoutMs) || batchTimeoutMs < 0 || batchTimeoutMs > MAX_TIMER_MS) {
      throw new TypeError(`Expected \`batchTimeoutMs\` to be a number from 0 to ${MAX_TIMER_MS}, got \`${batchTimeoutMs}\``);
    }
    const maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
    if (!(maxQueue === Number.POSITIVE_INFINITY || (Number.isInteger(maxQueue) && maxQueue >= 0))) {
      throw new TypeError(`Expected \`maxQueue\` to be an integer from 0 or Infinity, got \`${maxQueue}\``);
    }
    this.#run = options.run;
    this.#keyOf = options.keyOf;
    this.#costOf = options.costOf ?? (() => 1);
    this.#maxBatchSize = maxBatchSize;
    this.#batchTimeoutMs = batchTimeoutMs;
    this.#maxQueue = maxQueue;
    this.#onBatchStart = options.onBatchStart;
    this.#onBatchEnd = options.onBatchEnd;
  }

  /** Items waiting for a batch. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Items in the batch now running (0 when the device is idle). */
  get running(): number {
    return this.#running?.entries.length ?? 0;
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Queues an item; resolves with its result once its batch has run. */
  add(item: Item, options: AddOptions = {}): Promise<Batched<Result>> {
    const { signal, onStart } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('Expected `signal` to be an AbortSignal');
    if (onStart !== undefined && typeof onStart !== 'function') throw new TypeError('Expected `onStart` to be a function');
    if (this.#closed) return Promise.reject(new QueueClosedError(this.describe()));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiting.length >= this.#maxQueue) {
      return Promise.reject(new QueueFullError(this.describe(), this.retryAfterSeconds()));
    }
    const key = this.#keyOf(item);
    const cost = this.#costOf(item);
    if (typeof key !== 'string') throw new TypeError(`Expected \`keyOf\` to return a string, got \`${typeof key}\``);
    if (!Number.isFinite(cost) || cost < 0) throw new TypeError(`Expected \`costOf\` to return a finite number from 0, got \`${cost}\``);

    return new Promise<Batched<Result>>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(entry);
        if (index === -1) return;
        this.#waiting.splice(index, 1);
        reject(signal!.reason);
        this.#schedule();
      };
      const entry: Entry<Item, Result> = {
        item,
        key,
        cost,
        addedAt: performance.now(),
        resolve,
        reject,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          onStart?.();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
      this.#schedule();
    });
  }

  /** Stops taking items (`add` rejects with QueueClosedError); what waits still runs. */
  close(): void {
    this.#closed = true;
  }

  /** Resolves once nothing waits or runs. */
  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Seconds until the work now queued and running should be done at the recent throughput: when a
   * retry will find room. Bounded to MIN…MAX_RETRY_AFTER_SECONDS; the minimum before any batch has run.
   */
  retryAfterSeconds(): number {
    const secondsPerUnit = this.#throughput.secondsPerUnit;
    if (secondsPerUnit === undefined) return MIN_RETRY_AFTER_SECONDS;
    let backlog = 0;
    for (const entry of this.#waiting) backlog += entry.cost;
    let elapsed = 0;
    if (this.#running !== undefined) {
      for (const entry of this.#running.entries) backlog += entry.cost;
      elapsed = (performance.now() - this.#running.startedAt) / 1000;
    }
    const seconds = Math.ceil(backlog * secondsPerUnit - elapsed);
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, seconds));
  }

  /** Counts a batch run outside the batcher (a warm-up) towards the throughput estimate. */
  recordThroughput(items: readonly Item[], ms: number): void {
    this.#throughput.record(items.reduce((sum, item) => sum + this.#costOf(item), 0), ms);
  }

  /** The queue's state in words, for error messages and logs. */
  describe(): string {
    const running = this.#running === undefined ? 'no batch running' : `a batch of ${this.#running.entries.length} running`;
    const limit = this.#maxQueue === Number.POSITIVE_INFINITY ? '' : ` (at most ${this.#maxQueue})`;
    return `${running}, ${this.#waiting.length} waiting${limit}${this.#closed ? ', closed' : ''}`;
  }

  /** Starts the next batch if the device is free and the oldest waiting item's batch is full or due. */
  #schedule(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#running !== undefined) return;
    const head = this.#waiting[0];
    if (head === undefined) {
      this.#notifyIdle();
      return;
    }
    const batch = this.#waiting.filter((entry) => entry.key === head.key).slice(0, this.#maxBatchSize);
    const dueIn = head.addedAt + this.#batchTimeoutMs - performance.now();
    if (batch.length < this.#maxBatchSize && dueIn > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#schedule();
      }, dueIn);
      return;
    }
    const taken = new Set(batch);
    this.#waiting = this.#waiting.filter((entry) => !taken.has(entry));
    void this.#runBatch(head.key, batch);
  }

  async #runBatch(key: string, entries: readonly Entry<Item, Result>[]): Promise<void> {
    const startedAt = performance.now();
    this.#running = { entries, startedAt };
    const info = { key, size: entries.length };
    let ok = false;
    try {
      for (const entry of entries) entry.start();
      this.#onBatchStart?.(info);
      const results = await this.#run(entries.map((entry) => entry.item));
      if (!Array.isArray(results) || results.length !== entries.length) {
        throw new TypeError(`Expected \`run\` to return ${entries.length} results, got ${Array.isArray(results) ? results.length : typeof results}`);
      }
      const ms = performance.now() - startedAt;
      this.#throughput.record(entries.reduce((sum, entry) => sum + entry.cost, 0), ms);
      entries.forEach((entry, i) => {
        entry.resolve({ result: results[i] as Result, waitedMs: startedAt - entry.addedAt, batchSize: entries.length });
      });
      ok = true;
    } catch (error) {
      for (const entry of entries) entry.reject(error);
    } finally {
      this.#running = undefined;
      this.#onBatchEnd?.({ ...info, ms: performance.now() - startedAt, ok });
      this.#schedule();
    }
  }

  #isIdle(): boolean {
    return this.#running === undefined && this.#waiting.length === 0;
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
