// Groups compatible work into batches for one device, after Nx.Serving (`batch_size` + `batch_timeout`),
// with one difference that matters on a GPU: the device never sits idle waiting for companions unless
// asked to. An item that finds the device idle runs at once (batchTimeoutMs 0, the default) or waits at
// most batchTimeoutMs for up to `maxBatchSize - 1` companions with the same key; items that arrive while
// a batch runs wait for it anyway, so they go together, up to `maxBatchSize`, as soon as it ends — under
// load batches fill by themselves (issue #12: the old fixed 100 ms window cost 0.66× the throughput of
// unbatched serving for a lone client). One batch runs at a time (one model on one device); items with
// other keys wait their turn in arrival order, so nothing starves.
// The queue is bounded (QueueFullError carries a Retry-After estimated from recent throughput), every
// item can be withdrawn with an AbortSignal until its batch starts, and `close()` + `onIdle()` drain it
// for a graceful shutdown (p-queue's shape: #private state, documented options, TypeErrors at the edge).
// Once a batch runs, the item's signal still counts: `run` is handed every item's signal, so it can stop
// work nobody waits for (the server's pipeline drops such a request within one denoising step), and
// progress reported by `run` reaches the item's `onProgress`. A batch also has a weight budget
// (`maxBatchWeight`, the server's MAX_BATCH_PIXELS): a companion joins only while the batch stays within it.
// From recent batches' times (throughput.ts) it estimates how long an item and the backlog ahead of it
// take, and `admission(item, deadlineMs)` says whether the item can still finish in time (admission.ts).
import { type Admission, admissionOf } from './admission';
import type { AddOptions, Batched, BatcherOptions, QueuePosition } from './batcher-options';
import { QueueClosedError, QueueFullError } from './errors';
import { type Cost, costGroups, ThroughputEstimate, type WorkEstimate } from './throughput';

export type { Admission } from './admission';
export type { AddOptions, BatchInfo, Batched, BatcherOptions, QueuePosition, RunContext } from './batcher-options';

/** Bounds of the Retry-After a full queue answers with, in seconds. */
export const MIN_RETRY_AFTER_SECONDS = 1;
export const MAX_RETRY_AFTER_SECONDS = 600;

/** Whole seconds from `seconds`, within MIN…MAX_RETRY_AFTER_SECONDS: a Retry-After for that wait. */
export function boundedRetryAfter(seconds: number): number {
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, Math.ceil(seconds)));
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The signal of items added without one: nobody ever stops waiting for them. */
const NEVER = new AbortController().signal;

interface Entry<Item, Result, Progress> {
  readonly item: Item;
  readonly key: string;
  readonly cost: CostGroups;
  readonly weight: number;
  readonly addedAt: number;
  /** Whether a batch was running when the item arrived: it has waited for the device already. */
  readonly arrivedWhileBusy: boolean;
  readonly signal: AbortSignal;
  readonly onProgress: ((progress: Progress) => void) | undefined;
  readonly onMoved: ((position: QueuePosition) => void) | undefined;
  readonly resolve: (value: Batched<Result>) => void;
  readonly reject: (reason: unknown) => void;
  /** Detaches the withdrawal listener and tells the caller its batch starts. */
  readonly start: () => void;
}

export class Batcher<Item, Result, Progress = never> {
  readonly #run: BatcherOptions<Item, Result, Progress>['run'];
  readonly #keyOf: (item: Item) => string;
  readonly #costOf: (item: Item) => Cost;
  readonly #weightOf: (item: Item) => number;
  readonly #maxBatchSize: number;
  readonly #maxBatchWeight: number;
  readonly #batchTimeoutMs: number;
  readonly #maxQueue: number;
  readonly #onBatchStart: BatcherOptions<Item, Result, Progress>['onBatchStart'];
  readonly #onBatchEnd: BatcherOptions<Item, Result, Progress>['onBatchEnd'];
  readonly #throughput = new ThroughputEstimate();
  #waiting: Entry<Item, Result, Progress>[] = [];
  #running: { entries: readonly Entry<Item, Result, Progress>[]; startedAt: number } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: BatcherOptions<Item, Result, Progress>) {
    if (typeof options?.run !== 'function') throw new TypeError('Expected `run` to be a function');
    if (typeof options.keyOf !== 'function') throw new TypeError('Expected `keyOf` to be a function');
    const maxBatchSize = options.maxBatchSize ?? 4;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new TypeError(`Expected \`maxBatchSize\` to be an integer from 1, got \`${maxBatchSize}\``);
    }
    const batchTimeoutMs = options.batchTimeoutMs ?? 0;
    // setTimeout fires at once for delays past 2^31 - 1 ms, which would turn a long wait into none.
    if (!Number.isFinite(batchTimeoutMs) || batchTimeoutMs < 0 || batchTimeoutMs > MAX_TIMER_MS) {
      throw new TypeError(
        `Expected \`batchTimeoutMs\` to be a number from 0 to ${MAX_TIMER_MS}, got \`${batchTimeoutMs}\``,
      );
    }
    const maxBatchWeight = options.maxBatchWeight ?? Number.POSITIVE_INFINITY;
    if (!(maxBatchWeight > 0)) {
      throw new TypeError(`Expected \`maxBatchWeight\` to be a number above 0 or Infinity, got \`${maxBatchWeight}\``);
    }
    const maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
    if (!(maxQueue === Number.POSITIVE_INFINITY || (Number.isInteger(maxQueue) && maxQueue >= 0))) {
      throw new TypeError(`Expected \`maxQueue\` to be an integer from 0 or Infinity, got \`${maxQueue}\``);
    }
    this.#run = options.run;
    this.#keyOf = options.keyOf;
    this.#costOf = options.costOf ?? (() => 1);
    this.#weightOf = options.weightOf ?? (() => 1);
    this.#maxBatchSize = maxBatchSize;
    this.#maxBatchWeight = maxBatchWeight;
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
  add(item: Item, options: AddOptions<Progress> = {}): Promise<Batched<Result>> {
    const { signal, onStart, onProgress, onMoved } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw new TypeError('Expected `signal` to be an AbortSignal');
    if (onStart !== undefined && typeof onStart !== 'function')
      throw new TypeError('Expected `onStart` to be a function');
    if (onProgress !== undefined && typeof onProgress !== 'function')
      throw new TypeError('Expected `onProgress` to be a function');
    if (onMoved !== undefined && typeof onMoved !== 'function')
      throw new TypeError('Expected `onMoved` to be a function');
    if (this.#closed) return Promise.reject(new QueueClosedError(this.describe()));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiting.length >= this.#maxQueue) {
      return Promise.reject(new QueueFullError(this.describe(), this.retryAfterSeconds()));
    }
    const key = this.#keyOf(item);
    const cost = this.#costGroupsOf(item);
    const weight = this.#weightOf(item);
    if (typeof key !== 'string') throw new TypeError(`Expected \`keyOf\` to return a string, got \`${typeof key}\``);
    if (!Number.isFinite(weight) || weight < 0) {
      throw new TypeError(`Expected \`weightOf\` to return a finite number from 0, got \`${weight}\``);
    }

    return new Promise<Batched<Result>>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(entry);
        if (index === -1) return;
        const before = this.#waiting;
        this.#waiting = before.toSpliced(index, 1);
        this.#tellMoved(before);
        reject(signal!.reason);
        this.#schedule();
      };
      const entry: Entry<Item, Result, Progress> = {
        item,
        key,
        cost,
        weight,
        addedAt: performance.now(),
        arrivedWhileBusy: this.#running !== undefined,
        signal: signal ?? NEVER,
        onProgress,
        onMoved,
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
    const seconds = this.#secondsBefore(this.#waiting.length);
    return seconds === undefined ? MIN_RETRY_AFTER_SECONDS : boundedRetryAfter(seconds);
  }

  /** Where a waiting item stands; undefined once its batch has started (or it was never added, or left). */
  positionOf(item: Item): QueuePosition | undefined {
    const ahead = this.#waiting.findIndex((entry) => entry.item === item);
    if (ahead === -1) return undefined;
    return { ahead, secondsAhead: this.#secondsBefore(ahead) };
  }

  /** Seconds per unit of a one-dimensional cost at the recent throughput; undefined before any batch was measured. */
  get secondsPerUnit(): number | undefined {
    return this.#throughput.secondsPerUnit;
  }

  /** How long the item alone should take at the recent throughput; undefined before any batch was measured. */
  estimate(item: Item): WorkEstimate | undefined {
    return this.#throughput.estimate(this.#costGroupsOf(item));
  }

  /**
   * Whether the item can finish within `deadlineMs` from now, judged before it is added (admission.ts):
   * its own estimated time, and that plus the backlog ahead of it (what runs and everything waiting).
   */
  admission(item: Item, deadlineMs: number): Admission {
    return admissionOf(this.estimate(item), this.#secondsBefore(this.#waiting.length) ?? 0, deadlineMs);
  }

  /** The estimated seconds of the running batch's remaining work plus the first `waiting` items' work. */
  #secondsBefore(waiting: number): number | undefined {
    let backlog = totalCost(this.#waiting.slice(0, waiting));
    let elapsed = 0;
    if (this.#running !== undefined) {
      backlog = addCosts(backlog, totalCost(this.#running.entries));
      elapsed = (performance.now() - this.#running.startedAt) / 1000;
    }
    const estimate = this.#throughput.estimate(backlog);
    if (estimate === undefined) return undefined;
    return Math.max(0, estimate.seconds - elapsed);
  }

  /**
   * Counts a batch run outside the batcher (a warm-up) towards the throughput estimate. `parts`: how its
   * time divided among the cost's dimensions (see RunContext.measured); without them it only bounds the
   * estimate (throughput.ts).
   */
  recordThroughput(items: readonly Item[], ms: number, parts?: readonly number[]): void {
    this.#throughput.record(totalCost(items.map((item) => ({ cost: this.#costGroupsOf(item) }))), ms, parts);
  }

  #costGroupsOf(item: Item): CostGroups {
    const cost = costGroups(this.#costOf(item));
    const measures = cost.flat();
    if (measures.length === 0 || measures.some((c) => !Number.isFinite(c) || c < 0)) {
      throw new TypeError(`Expected \`costOf\` to return finite numbers from 0, got \`${JSON.stringify(cost)}\``);
    }
    return cost;
  }

  /** The queue's state in words, for error messages and logs. */
  describe(): string {
    const running =
      this.#running === undefined ? 'no batch running' : `a batch of ${this.#running.entries.length} running`;
    const limit = this.#maxQueue === Number.POSITIVE_INFINITY ? '' : ` (at most ${this.#maxQueue})`;
    return `${running}, ${this.#waiting.length} waiting${limit}${this.#closed ? ', closed' : ''}`;
  }

  /**
   * Starts the next batch if the device is free and the oldest waiting item's batch is full or due: at
   * once when that item arrived while a batch ran, else after its batchTimeoutMs.
   */
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
    const { batch, full } = this.#batchOf(head);
    const dueIn = head.arrivedWhileBusy ? 0 : head.addedAt + this.#batchTimeoutMs - performance.now();
    if (!full && dueIn > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#schedule();
      }, dueIn);
      return;
    }
    const taken = new Set<Entry<Item, Result, Progress>>(batch);
    const before = this.#waiting;
    this.#waiting = before.filter((entry) => !taken.has(entry));
    void this.#runBatch(head.key, batch);
    this.#tellMoved(before);
  }

  /**
   * The head's batch: waiting items of its key in arrival order, while the batch has room (count and
   * weight). `full` when no further item like the head could join it.
   */
  #batchOf(head: Entry<Item, Result, Progress>): { batch: Entry<Item, Result, Progress>[]; full: boolean } {
    const batch = [head];
    let weight = head.weight;
    for (const entry of this.#waiting) {
      if (batch.length >= this.#maxBatchSize) break;
      if (entry === head || entry.key !== head.key || weight + entry.weight > this.#maxBatchWeight) continue;
      batch.push(entry);
      weight += entry.weight;
    }
    return { batch, full: batch.length >= this.#maxBatchSize || weight + head.weight > this.#maxBatchWeight };
  }

  async #runBatch(key: string, entries: readonly Entry<Item, Result, Progress>[]): Promise<void> {
    const startedAt = performance.now();
    this.#running = { entries, startedAt };
    const info = { key, size: entries.length };
    let ok = false;
    let dropped = 0;
    let parts: readonly number[] | undefined;
    try {
      for (const entry of entries) entry.start();
      this.#onBatchStart?.(info);
      const results = await this.#run(
        entries.map((entry) => entry.item),
        {
          signals: entries.map((entry) => entry.signal),
          report: (index, progress) => entries[index]?.onProgress?.(progress),
          measured: (split) => (parts = split),
        },
      );
      if (!Array.isArray(results) || results.length !== entries.length) {
        throw new TypeError(
          `Expected \`run\` to return ${entries.length} results, got ${Array.isArray(results) ? results.length : typeof results}`,
        );
      }
      dropped = results.filter((result) => result === undefined).length;
      // A batch that dropped items ran shorter than its cost says: it would skew the estimate.
      if (dropped === 0) this.#throughput.record(totalCost(entries), performance.now() - startedAt, parts);
      entries.forEach((entry, i) => {
        const result = results[i];
        if (result !== undefined) {
          entry.resolve({ result, waitedMs: startedAt - entry.addedAt, batchSize: entries.length });
        } else if (entry.signal.aborted) {
          entry.reject(entry.signal.reason);
        } else {
          entry.reject(new TypeError('Expected `run` to return a result for every item whose signal has not aborted'));
        }
      });
      ok = true;
    } catch (error) {
      for (const entry of entries) entry.reject(error);
    } finally {
      this.#running = undefined;
      this.#onBatchEnd?.({ ...info, ms: performance.now() - startedAt, ok, dropped });
      this.#schedule();
    }
  }

  /**
   * Tells each waiting item that has fewer items ahead than in `before` (the queue before items left it;
   * an item at index i moved exactly when a different item was at i) where it stands now.
   */
  #tellMoved(before: readonly Entry<Item, Result, Progress>[]): void {
    this.#waiting.forEach((entry, ahead) => {
      if (entry.onMoved === undefined || before[ahead] === entry) return;
      entry.onMoved({ ahead, secondsAhead: this.#secondsBefore(ahead) });
    });
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

type CostGroups = readonly (readonly number[])[];

/** The sum of the items' costs, measure by measure. */
function totalCost(entries: readonly { readonly cost: CostGroups }[]): CostGroups {
  return entries.reduce<CostGroups>((total, entry) => addCosts(total, entry.cost), []);
}

function addCosts(a: CostGroups, b: CostGroups): CostGroups {
  return Array.from({ length: Math.max(a.length, b.length) }, (_, g) => {
    const [x = [], y = []] = [a[g], b[g]];
    return Array.from({ length: Math.max(x.length, y.length) }, (_, k) => (x[k] ?? 0) + (y[k] ?? 0));
  });
}
