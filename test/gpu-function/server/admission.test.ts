// Refusing up front what cannot finish by its deadline (batcher/admission.ts): the rule on its own with
// exact numbers, and the batcher applying it to an item and the backlog queued ahead of it, with the
// estimate fed by recordThroughput (no clock involved: nothing runs while the verdicts are taken).
import { describe, expect, it } from 'vitest';
import { admissionOf, ESTIMATE_TOLERANCE, MIN_SAMPLES_TO_REFUSE } from '../../../gpu-function/server/batcher/admission';
import { Batcher } from '../../../gpu-function/server/batcher/batcher';
import { busyPastDeadline, tooLongForDeadline } from '../../../gpu-function/server/problems';

describe('the admission rule', () => {
  const measured = (seconds: number) => ({ seconds, samples: MIN_SAMPLES_TO_REFUSE });

  it('admits while nothing, or too little, has been measured', () => {
    expect(admissionOf(undefined, 1_000, 1)).toEqual({ admitted: true });
    expect(admissionOf({ seconds: 1_000, samples: MIN_SAMPLES_TO_REFUSE - 1 }, 1_000, 1)).toEqual({ admitted: true });
  });

  it('refuses as too long what alone exceeds the deadline by more than the tolerance', () => {
    expect(ESTIMATE_TOLERANCE).toBe(0.1);
    expect(admissionOf(measured(10), 0, 9_000)).toEqual({ admitted: false, reason: 'too_long', estimatedSeconds: 10 });
    expect(admissionOf(measured(10), 0, 9_100)).toEqual({ admitted: true }); // 10 s ≤ 9.1 s × 1.1
  });

  it('refuses as busy what fits alone but not behind the backlog', () => {
    expect(admissionOf(measured(10), 0.5, 9_100)).toEqual({
      admitted: false,
      reason: 'backlog',
      estimatedSeconds: 10,
      backlogSeconds: 0.5,
    });
    expect(admissionOf(measured(1), 60, 60_000)).toEqual({ admitted: true }); // 61 s ≤ 66 s
    expect(admissionOf(measured(1), 70, 60_000)).toMatchObject({ admitted: false, reason: 'backlog' });
  });
});

describe("the batcher's verdict", () => {
  interface Item {
    readonly n: number;
  }
  /** Items wait (ten-minute batch timer) so the backlog is exactly what is queued. */
  function waitingBatcher() {
    return new Batcher<Item, string>({
      keyOf: () => 'k',
      costOf: (item) => [[1], [item.n]],
      run: async (items) => items.map(() => ''),
      maxBatchSize: 100,
      batchTimeoutMs: 600_000,
    });
  }

  it('admits anything before two batches were measured, then judges the item and the queue ahead', async () => {
    const batcher = waitingBatcher();
    expect(batcher.admission({ n: 1_000_000 }, 1)).toEqual({ admitted: true });
    // 1 s a picture, 0.01 s a unit of n.
    batcher.recordThroughput([{ n: 100 }], 2_000, [1, 1]);
    expect(batcher.admission({ n: 1_000_000 }, 1)).toEqual({ admitted: true }); // one batch: not yet
    batcher.recordThroughput([{ n: 100 }, { n: 100 }], 4_000, [1, 1]);
    expect(batcher.estimate({ n: 100 })).toEqual({ seconds: 2, samples: 2 });

    // 1 + 0.01 × 900 = 10 s alone: more than 9 s × 1.1.
    expect(batcher.admission({ n: 900 }, 9_000)).toEqual({ admitted: false, reason: 'too_long', estimatedSeconds: 10 });
    expect(batcher.admission({ n: 900 }, 60_000)).toEqual({ admitted: true });

    const controller = new AbortController();
    const queued = [{ n: 2_900 }, { n: 1_900 }].map((item) => batcher.add(item, { signal: controller.signal }));
    queued.forEach((p) => p.catch(() => undefined));
    // Behind 30 s + 20 s queued: 60 s in all, past 50 s × 1.1, though 10 s alone would fit.
    expect(batcher.admission({ n: 900 }, 50_000)).toEqual({
      admitted: false,
      reason: 'backlog',
      estimatedSeconds: 10,
      backlogSeconds: 50,
    });
    expect(batcher.admission({ n: 900 }, 60_000)).toEqual({ admitted: true });
    controller.abort();
    await batcher.onIdle();
    expect(batcher.admission({ n: 900 }, 50_000)).toEqual({ admitted: true });
  });
});

describe('the problems', () => {
  it('413 names what to lower and the estimate; 503 says when the backlog should have cleared', () => {
    const tooLong = tooLongForDeadline(185.4321, 120_000).problem;
    expect(tooLong).toMatchObject({ status: 413, type: 'urn:dreamurl:gpu-function:problem:too-long-for-deadline' });
    expect(tooLong.detail).toBe(
      'This picture is estimated to take 185 s here, longer than its deadline of 120000 ms; ask for fewer steps or a smaller width × height.',
    );
    expect(tooLong.errors?.map((e) => e.param)).toEqual(['steps', 'width', 'height']);
    const busy = busyPastDeadline(1.5, 42.2, 30_000).problem;
    expect(busy).toMatchObject({
      status: 503,
      retryAfterSeconds: 43,
      type: 'urn:dreamurl:gpu-function:problem:busy-past-deadline',
    });
    expect(busy.detail).toBe(
      'This picture is estimated to take 1.5 s behind 42.2 s of work already here, longer than its deadline of 30000 ms.',
    );
    expect(busyPastDeadline(1, 5_000, 1).problem.retryAfterSeconds).toBe(600); // bounded like a full queue's
    expect(busyPastDeadline(1, 0.01, 1).problem.retryAfterSeconds).toBe(1);
  });
});
