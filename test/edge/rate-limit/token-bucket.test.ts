// The bucket arithmetic, with a hand-driven clock. RATE_LIMIT_PER_MINUTE=2 is capacity 2, refilled
// at 2 tokens per 60 s, i.e. one token every 30 s; a generation takes its cost in tokens.
import { describe, expect, it } from 'vitest';
import { fullAtMs, perMinutePolicy, type TokenBucketState, takeTokens } from '../../../edge/rate-limit/token-bucket';

const policy = perMinutePolicy(2);
const take = (previous: TokenBucketState | undefined, nowMs: number, cost = 1) => takeTokens(previous, policy, nowMs, cost);

describe('takeTokens', () => {
  it('lets a new client burst the whole capacity, then refuses with the wait for the next token', () => {
    const first = take(undefined, 0);
    expect(first.decision).toEqual({ allowed: true, cost: 1, limit: 2, windowSeconds: 60, remaining: 1, retryAfterSeconds: 0, resetSeconds: 30 });
    const second = take(first.state, 0);
    expect(second.decision).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 });
    const third = take(second.state, 0);
    expect(third.decision).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 30, resetSeconds: 60 });
  });

  it('refills continuously: half a token after 15 s is still a refusal, a whole one after 30 s is not', () => {
    const empty: TokenBucketState = { tokens: 0, updatedAtMs: 0 };
    expect(take(empty, 15_000).decision).toMatchObject({ allowed: false, retryAfterSeconds: 15, resetSeconds: 45 });
    expect(take(empty, 30_000).decision).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 });
  });

  it('a refused take does not cost a token', () => {
    expect(take({ tokens: 0.5, updatedAtMs: 0 }, 0).state.tokens).toBe(0.5);
  });

  it('never holds more than its capacity, however long the client was away', () => {
    expect(take({ tokens: 0, updatedAtMs: 0 }, 3_600_000).decision).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('ignores a clock that goes backwards', () => {
    expect(take({ tokens: 0, updatedAtMs: 10_000 }, 5_000).decision).toMatchObject({ allowed: false, retryAfterSeconds: 30 });
  });

  it('handles large limits: 600/min is one token every 100 ms', () => {
    const big = perMinutePolicy(600);
    expect(takeTokens({ tokens: 0, updatedAtMs: 0 }, big, 50).decision).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(takeTokens({ tokens: 0, updatedAtMs: 0 }, big, 100).decision).toMatchObject({ allowed: true });
  });
});

describe('takeTokens with a cost', () => {
  const ten = perMinutePolicy(10); // one token every 6 s

  it('takes the cost, and refuses until the bucket holds it, with the wait for that many', () => {
    const dear = takeTokens(undefined, ten, 0, 4);
    expect(dear.decision).toMatchObject({ allowed: true, cost: 4, remaining: 6, resetSeconds: 24 });
    const second = takeTokens(dear.state, ten, 0, 4);
    expect(second.decision).toMatchObject({ allowed: true, remaining: 2 });
    const third = takeTokens(second.state, ten, 0, 4);
    expect(third.decision).toMatchObject({ allowed: false, cost: 4, remaining: 2, retryAfterSeconds: 12 });
    expect(takeTokens(second.state, ten, 0, 1.5).decision).toMatchObject({ allowed: true, remaining: 0 });
    expect(takeTokens(second.state, ten, 12_000, 4).decision).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('lets a cost above the capacity through only on a full bucket, leaving a debt the client waits out', () => {
    const huge = takeTokens(undefined, ten, 0, 25);
    expect(huge.state.tokens).toBe(-15);
    expect(huge.decision).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 150 });
    // The next default request waits until one token has grown back above the debt: 16 tokens, 96 s.
    expect(takeTokens(huge.state, ten, 0, 1).decision).toMatchObject({ allowed: false, retryAfterSeconds: 96 });
    expect(takeTokens(huge.state, ten, 96_000, 1).decision.allowed).toBe(true);
    // A partly refilled bucket does not admit it: the whole bucket is needed.
    expect(takeTokens({ tokens: 9, updatedAtMs: 0 }, ten, 0, 25).decision).toMatchObject({ allowed: false, retryAfterSeconds: 6 });
  });

  it('knows when a bucket is full again (the moment its state is the same as none)', () => {
    expect(fullAtMs({ tokens: 4, updatedAtMs: 1_000 }, ten)).toBe(1_000 + 36_000);
    expect(fullAtMs({ tokens: -15, updatedAtMs: 0 }, ten)).toBe(150_000);
    expect(fullAtMs({ tokens: 10, updatedAtMs: 5 }, ten)).toBe(5);
  });
});
