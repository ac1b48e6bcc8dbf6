// The batcher's public shapes (batcher.ts): its options, what `run` is handed, what `add` takes and
// resolves with, and where a waiting item stands. Kept apart so the class reads as its algorithm.
import type { Cost } from './throughput';

export interface BatcherOptions<Item, Result, Progress = never> {
  /**
   * Runs one batch (items sharing a key, in arrival order) and returns one place per item, in order: its
   * result, or `undefined` for an item it dropped because the item's signal (`context.signals`) aborted.
   */
  readonly run: (items: readonly Item[], context: RunContext<Progress>) => Promise<readonly (Result | undefined)[]>;
  /** Items with equal keys may share a batch. */
  readonly keyOf: (item: Item) => string;
  /** Most items in one batch. @default 4 */
  readonly maxBatchSize?: number;
  /** An item's weight towards `maxBatchWeight` (items of one key should weigh the same). @default () => 1 */
  readonly weightOf?: (item: Item) => number;
  /**
   * Most total weight in one batch: a companion joins only while the sum stays within it. An item heavier
   * than this on its own still runs, alone. @default Infinity
   */
  readonly maxBatchWeight?: number;
  /**
   * Longest wait for companions of an item that arrived while the device was idle, in ms; 0 runs it at
   * once. An item that arrived while a batch ran never waits longer than that batch. @default 0
   */
  readonly batchTimeoutMs?: number;
  /** Most items waiting (the running batch not counted); past it `add` rejects with QueueFullError. @default Infinity */
  readonly maxQueue?: number;
  /**
   * An item's relative cost, for the time estimates (Retry-After, queue positions, admission): one
   * number, or one per dimension its run time grows with independently (the same count for every item;
   * throughput.ts learns a rate per dimension). @default () => 1
   */
  readonly costOf?: (item: Item) => Cost;
  /** Told when a batch starts (after it left the queue) and when it has settled. */
  readonly onBatchStart?: (batch: BatchInfo) => void;
  readonly onBatchEnd?: (
    batch: BatchInfo & { readonly ms: number; readonly ok: boolean; readonly dropped: number },
  ) => void;
}

/** What `run` gets besides the items. */
export interface RunContext<Progress> {
  /** One per item, in order: aborts once nobody waits for that item's result (never, for an item added without one). */
  readonly signals: readonly AbortSignal[];
  /** Hands progress of item `index` to its `onProgress`. */
  report(index: number, progress: Progress): void;
  /**
   * Says how the batch's time divided among the cost's dimensions (one figure each, any unit: only the
   * proportions count), so the estimate learns each dimension's rate; unsaid, the batch's total only
   * bounds them (throughput.ts).
   */
  measured(parts: readonly number[]): void;
}

export interface BatchInfo {
  readonly key: string;
  readonly size: number;
}

export interface AddOptions<Progress = never> {
  /**
   * Nobody waits for the item any more once it aborts (add then rejects with `signal.reason`): a waiting
   * item is withdrawn at once; a running one is passed on to `run` (RunContext.signals), which may drop it.
   */
  readonly signal?: AbortSignal | undefined;
  /** Told when the item's batch starts. */
  readonly onStart?: (() => void) | undefined;
  /** Told what `run` reports for this item while its batch runs. */
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /**
   * Told where the item stands whenever the number of items ahead of it changes while it waits (one
   * ahead left or went into a batch); its place at `add` is `positionOf`'s.
   */
  readonly onMoved?: ((position: QueuePosition) => void) | undefined;
}

/** Where a waiting item stands (see `positionOf`). */
export interface QueuePosition {
  /** Items waiting that arrived before it (some may share its batch). */
  readonly ahead: number;
  /**
   * Seconds until its batch could start at the recent throughput: the running batch's remaining work and
   * the work of the items ahead. undefined before any batch has been measured.
   */
  readonly secondsAhead: number | undefined;
}

export interface Batched<Result> {
  readonly result: Result;
  /** Milliseconds from `add` to the start of the item's batch. */
  readonly waitedMs: number;
  /** Items in the batch the item ran in. */
  readonly batchSize: number;
}
