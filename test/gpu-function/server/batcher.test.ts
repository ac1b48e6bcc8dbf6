// The batcher on its own, with plain `run` functions standing for the pipeline: which items share a
// batch (by key, count and weight), when a batch starts, one batch at a time, the bounded queue and its
// Retry-After, queue positions, withdrawal by AbortSignal and the signals handed to a running batch
// (items it drops), progress, close() + onIdle() for shutdown, and failures reaching every item of their batch.
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

  it('by default runs an item that finds the device idle at once, without waiting for companions', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatchSize: 8 });
    const result = batcher.add(item('a', 1));
    // Started within add(): no timer stood between the item and the device.
    expect(batcher.running).toBe(1);
    expect((await result).batchSize).toBe(1);
    expect(batches).toEqual([[1]]);
  });

  it('never holds items that arrived while a batch ran: they go as soon as it ends, whatever batchTimeoutMs', async () => {
    const { batcher, batches, state } = recordingBatcher({ maxBatchSize: 2, batchTimeoutMs: 600_000 });
    const gate = deferred();
    state.gate = gate.promise;
    const full = [1, 2].map((n) => batcher.add(item('a', n)));
    await Promise.resolve();
    expect(batcher.running).toBe(2);
    // These two arrive while the device is busy; neither fills a batch of 2 with its own key.
    const later = [batcher.add(item('a', 3)), batcher.add(item('b', 4))];
    state.gate = undefined;
    gate.resolve();
    // Were either to wait out the 10-minute window once the device is free, the test would time out.
    const results = await Promise.all([...full, ...later]);
    expect(batches).toEqual([[1, 2], [3], [4]]);
    expect(results.map((r) => r.batchSize)).toEqual([2, 2, 1, 1]);
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

  it('hands a running batch its items\' signals; an item run drops rejects with its signal\'s reason', async () => {
    let seen: readonly AbortSignal[] = [];
    const gate = deferred();
    const ends: { dropped: number; ok: boolean }[] = [];
    const batcher = new Batcher<Item, string>({
      keyOf: (i) => i.key,
      batchTimeoutMs: 600_000,
      maxBatchSize: 3,
      async run(items, { signals }) {
        seen = signals;
        await gate.promise;
        return items.map((i, index) => (signals[index]!.aborted ? undefined : `${i.key}${i.n}`));
      },
      onBatchEnd: ({ dropped, ok }) => ends.push({ dropped, ok }),
    });
    const leaving = new AbortController();
    let started = 0;
    const results = [
      batcher.add(item('a', 1), { signal: leaving.signal, onStart: () => started++ }),
      batcher.add(item('a', 2)),
      batcher.add(item('a', 3), { signal: new AbortController().signal }),
    ];
    await Promise.resolve();
    expect(started).toBe(1);
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBe(leaving.signal);
    expect(seen[1]!.aborted).toBe(false); // an item added without a signal is wanted for good
    const reason = new Error('client left mid-batch');
    leaving.abort(reason);
    expect(seen[0]!.aborted).toBe(true);
    gate.resolve();
    await expect(results[0]).rejects.toBe(reason);
    expect((await results[1]!).result).toBe('a2');
    expect((await results[2]!).result).toBe('a3');
    expect(ends).toEqual([{ dropped: 1, ok: true }]);
    // A batch that dropped work ran shorter than its cost: it does not feed the throughput estimate.
    expect(batcher.secondsPerUnit).toBeUndefined();
  });

  it('fails an item that run drops though its signal has not aborted', async () => {
    const batcher = new Batcher<Item, string>({
      keyOf: (i) => i.key,
      batchTimeoutMs: 600_000,
      maxBatchSize: 2,
      run: async () => ['kept', undefined],
    });
    const [kept, lost] = [batcher.add(item('a', 1)), batcher.add(item('a', 2))];
    expect((await kept).result).toBe('kept');
    await expect(lost).rejects.toThrow('Expected `run` to return a result for every item whose signal has not aborted');
  });

  it("passes run's progress reports to each item's onProgress", async () => {
    const batcher = new Batcher<Item, string, number>({
      keyOf: (i) => i.key,
      batchTimeoutMs: 600_000,
      maxBatchSize: 2,
      async run(items, { report }) {
        report(0, 1);
        report(1, 10);
        report(0, 2);
        report(5, 99); // no such item: ignored
        return items.map((i) => String(i.n));
      },
    });
    const first: number[] = [];
    const second: number[] = [];
    await Promise.all([
      batcher.add(item('a', 1), { onProgress: (p) => first.push(p) }),
      batcher.add(item('a', 2), { onProgress: (p) => second.push(p) }),
    ]);
    expect([first, second]).toEqual([[1, 2], [10]]);
    expect(() => batcher.add(item('a', 3), { onProgress: 'p' as unknown as () => void })).toThrow(TypeError);
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

describe('queue positions', () => {
  it('says how many wait ahead of an item and the seconds of work before it; nothing once its batch runs', async () => {
    const gate = deferred();
    const batcher = new Batcher<Item, string>({
      keyOf: (i) => i.key,
      costOf: (i) => i.n,
      batchTimeoutMs: 0,
      maxBatchSize: 1,
      async run(items) {
        await gate.promise;
        return items.map(() => '');
      },
    });
    const items = [item('a', 4), item('b', 2), item('a', 6), item('c', 1)];
    const controller = new AbortController();
    const added = items.map((i) => batcher.add(i, { signal: controller.signal }));
    added.forEach((p) => p.catch(() => undefined));
    await Promise.resolve();
    expect(batcher.positionOf(items[0]!)).toBeUndefined(); // running
    expect(batcher.positionOf(items[2]!)).toEqual({ ahead: 1, secondsAhead: undefined }); // no throughput yet
    batcher.recordThroughput([item('x', 10)], 5_000); // 0.5 s per unit
    const third = batcher.positionOf(items[2]!)!;
    expect(third.ahead).toBe(1);
    // The running batch (4 units, just started) and item b (2 units): 3 s at most, a little less as time passes.
    expect(third.secondsAhead).toBeGreaterThan(2.5);
    expect(third.secondsAhead).toBeLessThanOrEqual(3);
    expect(batcher.positionOf(items[3]!)!.ahead).toBe(2);
    expect(batcher.positionOf(item('a', 4))).toBeUndefined(); // found by identity, not by value
    controller.abort();
    gate.resolve();
    await batcher.onIdle();
    expect(batcher.positionOf(items[3]!)).toBeUndefined();
  });

  it('tells a waiting item where it stands when fewer are ahead: one ahead left, or went into a batch', async () => {
    const gates = [deferred(), deferred()];
    let batch = 0;
    const batcher = new Batcher<Item, string>({
      keyOf: (i) => i.key,
      batchTimeoutMs: 0,
      maxBatchSize: 1,
      async run(items) {
        await gates[batch++]?.promise;
        return items.map(() => '');
      },
    });
    const moves: [number, number][] = [];
    const leaving = new AbortController();
    const [running, first, second, third] = [item('a', 1), item('a', 2), item('b', 3), item('a', 4)];
    const added = [
      batcher.add(running!),
      batcher.add(first!),
      batcher.add(second!, { signal: leaving.signal }),
      batcher.add(third!, { onMoved: (p) => moves.push([4, p.ahead]) }),
    ];
    added.forEach((p) => p.catch(() => undefined));
    // An item added behind moves nobody; `second` leaving moves only those behind it.
    batcher.add(item('c', 5), { onMoved: (p) => moves.push([5, p.ahead]) }).catch(() => undefined);
    expect(moves).toEqual([]);
    leaving.abort();
    expect(moves).toEqual([[4, 1], [5, 2]]);
    gates[0]!.resolve(); // `first` goes into the next batch
    while (moves.length < 4) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(moves.slice(2)).toEqual([[4, 0], [5, 1]]);
    expect(batcher.positionOf(third!)?.ahead).toBe(0);
    gates[1]!.resolve();
    await batcher.onIdle();
    expect(moves).toHaveLength(5); // and `c` once `third` started: [5, 0]
    expect(moves[4]).toEqual([5, 0]);
  });
});

describe('the batch weight budget', () => {
  it('admits a companion only while the batch stays within maxBatchWeight, and runs a full one at once', async () => {
    const { batcher, batches } = recordingBatcher({
      maxBatchSize: 8,
      batchTimeoutMs: 600_000,
      weightOf: (i) => i.n,
      maxBatchWeight: 10,
    });
    // Three of weight 3 fit (9); a fourth would not, so the batch is full and runs without the timeout.
    const results = await Promise.all([1, 2, 3].map(() => batcher.add(item('a', 3))));
    expect(results.map((r) => r.batchSize)).toEqual([3, 3, 3]);
    expect(batches).toEqual([[3, 3, 3]]);
  });

  it('runs an item heavier than the budget alone, and splits what does not fit into later batches', async () => {
    const { batcher, batches, state } = recordingBatcher({ maxBatchSize: 8, batchTimeoutMs: 0, weightOf: (i) => i.n, maxBatchWeight: 10 });
    const gate = deferred();
    state.gate = gate.promise;
    const all = [batcher.add(item('big', 12)), ...[6, 6, 6].map((n) => batcher.add(item('a', n)))];
    await Promise.resolve();
    state.gate = undefined;
    gate.resolve();
    await Promise.all(all);
    expect(batches).toEqual([[12], [6], [6], [6]]);
  });

  it('rejects a budget that is not above 0 and weights that are not finite', async () => {
    expect(() => new Batcher<Item, string>({ keyOf: () => '', run: async () => [], maxBatchWeight: 0 })).toThrow(
      /`maxBatchWeight` to be a number above 0 or Infinity, got `0`/,
    );
    const batcher = new Batcher<Item, string>({ keyOf: () => '', run: async () => [], weightOf: () => Number.NaN });
    expect(() => batcher.add(item('a', 1))).toThrow(/`weightOf` to return a finite number from 0, got `NaN`/);
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
    const batcher = new Batcher<Item, string>({ keyOf: (i) => i.key, maxBatchSize: 2, batchTimeoutMs: 600_000, run: async () => ['only one'] });
    const both = [batcher.add(item('a', 1)), batcher.add(item('a', 2))];
    for (const p of both) await expect(p).rejects.toThrow('Expected `run` to return 2 results, got 1');
  });
});
