// The bucket arithmetic, with a hand-driven clock. RATE_LIMIT_PER_MINUTE=2 is capacity 2, refilled
// at 2 tokens per 60 s, i.e. one token every 30 s.
import { describe, expect, it } from 'vitest';
import { perMinutePolicy, type TokenBucketState, takeToken } from '../../../edge/rate-limit/token-bucket';

const policy = perMinutePolicy(2);

describe('takeToken', () => {
  it('lets a new client burst the whole capacity, then refuses with the wait for the next token', () => {
    const first = takeToken(undefined, policy, 0);
    expect(first).toMatchObject({ allowed: true, remaining: 1, retryAfterSeconds: 0, resetSeconds: 30 });
    const second = takeToken(first.state, policy, 0);
    expect(second).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 });
    const third = takeToken(second.state, policy, 0);
    expect(third).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 30, resetSeconds: 60 });
  });

  it('refills continuously: half a token after 15 s is still a refusal, a whole one after 30 s is not', () => {
    const empty: TokenBucketState = { tokens: 0, updatedAtMs: 0 };
    expect(takeToken(empty, policy, 15_000)).toMatchObject({ allowed: false, retryAfterSeconds: 15, resetSeconds: 45 });
    expect(takeToken(empty, policy, 30_000)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 });
  });

  it('a refused take does not cost a token', () => {
    const refused = takeToken({ tokens: 0.5, updatedAtMs: 0 }, policy, 0);
    expect(refused.state.tokens).toBe(0.5);
  });

  it('never holds more than its capacity, however long the client was away', () => {
    expect(takeToken({ tokens: 0, updatedAtMs: 0 }, policy, 3_600_000)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('ignores a clock that goes backwards', () => {
    expect(takeToken({ tokens: 0, updatedAtMs: 10_000 }, policy, 5_000)).toMatchObject({ allowed: false, retryAfterSeconds: 30 });
  });

  it('handles large limits: 600/min is one token every 100 ms', () => {
    const big = perMinutePolicy(600);
    expect(takeToken({ tokens: 0, updatedAtMs: 0 }, big, 50)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(takeToken({ tokens: 0, updatedAtMs: 0 }, big, 100)).toMatchObject({ allowed: true });
  });
});
