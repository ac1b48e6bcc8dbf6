// The batcher on its own, with plain `run` functions standing for the pipeline: which items share a
// batch, when a batch starts, one batch at a time, the bounded queue and its Retry-After, withdrawal by
// AbortSignal, close() + onIdle() for shutdown, and failures reaching every item of their batch.
import { describe, expect, it } from 'vitest';
import { Batcher, MAX_RETRY_AFTER_SECONDS, type BatcherOptions } from '../../../gpu-function/server/batcher/batcher';
import { QueueClosedError, QueueFullError } from '../../../gpu-function/server/batcher/errors';

interface Item {
  readonly key: string;
  readonly n: number;
}

/** A promise the test settles by hand: a batch that runs until the test lets it finish. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A batcher whose run records each batch and, while `gate` is set, waits for it before answering. */
function recordingBatcher(options: Partial<BatcherOptions<Item, string>> = {}) {
  const batches: number[][] = [];
  let active = 0;
  let maxActive = 0;
  const state = { gate: undefined as Promise<void> | undefined };
  const batcher = new Batcher<Item, string>({
    keyOf: (item) => item.key,
    async run(items) {
      active++;
      maxActive = Math.max(maxActive, active);
      batches.push(items.map((item) => item.n));
      await state.gate;
      active--;
      return items.map((item) => `${item.key}${item.n}`);
    },
    ...options,
  });
  return { batcher, batches, state, maxActive: () => maxActive };
}

const item = (key: string, n: number): Item => ({ key, n });

describe('options', () => {
  it.each([
    [{ run: undefined }, /`run` to be a function/],
    [{ keyOf: 'key' }, /`keyOf` to be a function/],
    [{ maxBatchSize: 0 }, /`maxBatchSize` to be an integer from 1, got `0`/],
    [{ maxBatchSize: 1.5 }, /`maxBatchSize`.*`1.5`/],
    [{ batchTimeoutMs: -1 }, /`batchTimeoutMs` to be a number from 0/],
    [{ batchTimeoutMs: 2 ** 31 }, /`batchTimeoutMs`/],
    [{ maxQueue: -1 }, /`maxQueue` to be an integer from 0 or Infinity, got `-1`/],
  ])('rejects %o with a TypeError', (bad, message) => {
    const options = { run: async () => [], keyOf: () => '', ...bad } as unknown as BatcherOptions<Item, string>;
    expect(() => new Batcher(options)).toThrow(TypeError);
    expect(() => new Batcher(options)).toThrow(message);
  });

  it('rejects a signal that is not an AbortSignal', () => {
    const { batcher } = recordingBatcher();
    expect(() => batcher.add(item('a', 1), { signal: {} as AbortSignal })).toThrow(TypeError);
  });
});

describe('forming batches', () => {
  it('runs compatible items together, up to maxBatchSize, each getting its own result in order', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatchSize: 3, batchTimeoutMs: 600_000 });
    const results = await Promise.all([1, 2, 3].map((n) => batcher.add(item('a', n))));
    // A full batch runs at once (were it to wait out the 10-minute timeout, the test would time out).
    expect(batches).toEqual([[1, 2, 3]]);
    expect(results.map((r) => [r.result, r.batchSize])).toEqual([['a1', 3], ['a2', 3], ['a3', 3]]);
    for (const r of results) expect(r.waitedMs).toBeGreaterThanOrEqual(0);
  });

  it('runs a batch short once its first item has waited batchTimeoutMs', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatchSize: 8, batchTimeoutMs: 20 });
    const result = await batcher.add(item('a', 1));
    expect(batches).toEqual([[1]]);
    expect(result.batchSize).toBe(1);
    expect(result.waitedMs).toBeGreaterThanOrEqual(19);
  });

  it('never puts items with different keys into one batch, and keeps the order of first arrival', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatchSize: 4, batchTimeoutMs: 30 });
    const all = [item('a', 1), item('b', 2), item('a', 3), item('c', 4), item('b', 5)].map((i) => batcher.add(i));
    const results = await Promise.all(all);
    expect(batches).toEqual([[1, 3], [2, 5], [4]]);
    expect(results.map((r) => r.result)).toEqual(['a1', 'b2', 'a3', 'c4', 'b5']);
  });

  it('runs one batch at a time, and what queued meanwhile forms the next batch without waiting', async () => {
    const { batcher, batches, state, maxActive } = recordingBatcher({ maxBatchSize: 4, batchTimeoutMs: 0 });
    const gate = deferred();
    state.gate = gate.promise;
    const first = batcher.add(item('a', 1));
    await Promise.resolve();
    expect(batcher.running).toBe(1);
    const later = [2, 3, 4, 5, 6].map((n) => batcher.add(item('a', n)));
    expect(batcher.size).toBe(5);
    expect(batcher.describe()).toBe('a batch of 1 running, 5 waiting');
    state.gate = undefined;
    gate.resolve();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3, 4, 5], [6]]);
    expect(maxActive()).toBe(1);
  });
});

describe('the bounded queue', () => {
  it('refuses items past maxQueue with the queue state, without disturbing what waits', async () => {
    const { batcher, batches, state } = recordingBatcher({ maxBatchSize: 1, batchTimeoutMs: 0, maxQueue: 2 });
    const gate = deferred();
    state.gate = gate.promise;
    const accepted = [1, 2, 3].map((n) => batcher.add(item('a', n)));
    await Promise.resolve();
    const refused = batcher.add(item('a', 4));
    await expect(refused).rejects.toThrow(QueueFullError);
    await expect(refused).rejects.toThrow('The queue is full: a batch of 1 running, 2 waiting (at most 2)');
    state.gate = undefined;
    gate.resolve();
    expect((await Promise.all(accepted)).map((r) => r.result)).toEqual(['a1', 'a2', 'a3']);
    expect(batches).toEqual([[1], [2], [3]]);
  });

  it('estimates Retry-After as the backlog at the recent seconds per unit of cost', async () => {
    const batcher = new Batcher<Item, string>({
      keyOf: (i) => i.key,
      run: async (items) => items.map(() => ''),
      costOf: (i) => i.n,
      maxBatchSize: 10,
      batchTimeoutMs: 600_000,
      maxQueue: 3,
    });
    expect(batcher.retryAfterSeconds()).toBe(1); // no batch has run: the minimum
    batcher.recordThroughput([item('a', 2), item('a', 2)], 2_000); // 4 units in 2 s: 0.5 s per unit
    const controller = new AbortController();
    const waiting = [3, 4, 5].map((n) => batcher.add(item('a', n), { signal: controller.signal }));
    waiting.forEach((p) => p.catch(() => undefined));
    expect(batcher.retryAfterSeconds()).toBe(6); // 12 units × 0.5 s
    const refused = batcher.add(item('a', 1));
    await expect(refused).rejects.toMatchObject({ name: 'QueueFullError', retryAfterSeconds: 6 });
    batcher.recordThroughput([item('a', 1)], 10_000_000); // one very slow batch: the estimate is capped
    expect(batcher.retryAfterSeconds()).toBe(MAX_RETRY_AFTER_SECONDS);
    controller.abort(); // withdraw them: the ten-minute batch timer goes with them
    await batcher.onIdle();
  });
});

describe('withdrawal and shutdown', () => {
  it('withdraws an item whose signal aborts while it waits: run never sees it', async () => {
    const { batcher, batches, state } = recordingBatcher({ maxBatchSize: 4, batchTimeoutMs: 0 });
    const gate = deferred();
    state.gate = gate.promise;
    const first = batcher.add(item('a', 1));
    await Promise.resolve();
    const controller = new AbortController();
    const withdrawn = batcher.add(item('a', 2), { signal: controller.signal });
    const kept = batcher.add(item('a', 3));
    expect(batcher.size).toBe(2);
    controller.abort(new Error('client left'));
    await expect(withdrawn).rejects.toThrow('client left');
    expect(batcher.size).toBe(1);
    state.gate = undefined;
    gate.resolve();
    await Promise.all([first, kept]);
    expect(batches).toEqual([[1], [3]]);
  });

  it('refuses an already aborted signal with its reason and queues nothing', async () => {
    const { batcher, batches } = recordingBatcher({ batchTimeoutMs: 0 });
    const reason = new Error('gone before it came');
    await expect(batcher.add(item('a', 1), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await batcher.onIdle();
    expect(batches).toEqual([]);
  });

  it('does not interrupt a running batch when a signal aborts, and says when the batch started', async () => {
    const { batcher, state } = recordingBatcher({ batchTimeoutMs: 0 });
    const gate = deferred();
    state.gate = gate.promise;
    const controller = new AbortController();
    let started = 0;
    const running = batcher.add(item('a', 1), { signal: controller.signal, onStart: () => started++ });
    await Promise.resolve();
    expect(started).toBe(1);
    controller.abort();
    state.gate = undefined;
    gate.resolve();
    expect((await running).result).toBe('a1');
  });

  it('close() refuses new items but runs every waiting one; onIdle() resolves when all are done', async () => {
    const { batcher, batches, state } = recordingBatcher({ maxBatchSize: 2, batchTimeoutMs: 0 });
    await batcher.onIdle(); // idle from the start
    const gate = deferred();
    state.gate = gate.promise;
    const accepted = [1, 2, 3].map((n) => batcher.add(item('a', n)));
    await Promise.resolve();
    batcher.close();
    await expect(batcher.add(item('a', 4))).rejects.toThrow(QueueClosedError);
    await expect(batcher.add(item('a', 4))).rejects.toThrow('The queue is closed: a batch of 1 running, 2 waiting, closed');
    let idle = false;
    const onIdle = batcher.onIdle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    state.gate = undefined;
    gate.resolve();
    await onIdle;
    expect(batches).toEqual([[1], [2, 3]]);
    expect((await Promise.all(accepted)).map((r) => r.result)).toEqual(['a1', 'a2', 'a3']);
    expect([batcher.size, batcher.running, batcher.isClosed]).toEqual([0, 0, true]);
  });
});

describe('failures', () => {
  it('rejects every item of a failed batch with its error and goes on with the next batch', async () => {
    const failure = new Error('onnxruntime failed');
    const batches: string[][] = [];
    const batcher = new Batcher<Item, string>({
      keyOf: (i) => i.key,
      batchTimeoutMs: 10,
      async run(items) {
        batches.push(items.map((i) => `${i.key}${i.n}`));
        if (items[0]!.key === 'bad') throw failure;
        return items.map((i) => `${i.key}${i.n}`);
      },
    });
    const bad = [batcher.add(item('bad', 1)), batcher.add(item('bad', 2))];
    const good = batcher.add(item('good', 3));
    for (const p of bad) await expect(p).rejects.toBe(failure);
    expect((await good).result).toBe('good3');
    expect(batches).toEqual([['bad1', 'bad2'], ['good3']]);
  });

  it('rejects with a TypeError when run answers the wrong number of results', async () => {
    const batcher = new Batcher<Item, string>({ keyOf: (i) => i.key, maxBatchSize: 2, run: async () => ['only one'] });
    const both = [batcher.add(item('a', 1)), batcher.add(item('a', 2))];
    for (const p of both) await expect(p).rejects.toThrow('Expected `run` to return 2 results, got 1');
  });
});
