// The Node edge's in-process rate limiter: the same token buckets as the Durable Object (same
// takeToken), one per client, with a clock the test controls; full buckets are forgotten to keep
// memory bounded without changing any answer.
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../edge/node/memory-rate-limiter';

const TWO_PER_MINUTE = { capacity: 2, windowSeconds: 60 };

function clock(startMs = 1_000_000) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('MemoryRateLimiter', () => {
  it('allows a burst of `capacity`, then refuses with the seconds until the next token', async () => {
    const time = clock();
    const limiter = new MemoryRateLimiter({ now: time.now });
    expect(await limiter.consume('ip:a', TWO_PER_MINUTE)).toEqual({
      allowed: true, limit: 2, windowSeconds: 60, remaining: 1, resetSeconds: 30, retryAfterSeconds: 0,
    });
    expect(await limiter.consume('ip:a', TWO_PER_MINUTE)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 });
    expect(await limiter.consume('ip:a', TWO_PER_MINUTE)).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 30 });
    time.advance(10_000);
    expect(await limiter.consume('ip:a', TWO_PER_MINUTE)).toMatchObject({ allowed: false, retryAfterSeconds: 20 });
    time.advance(20_000); // one token back after 30 s (2 per 60 s)
    expect(await limiter.consume('ip:a', TWO_PER_MINUTE)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('keeps one bucket per client', async () => {
    const limiter = new MemoryRateLimiter({ now: clock().now });
    await limiter.consume('ip:a', TWO_PER_MINUTE);
    await limiter.consume('ip:a', TWO_PER_MINUTE);
    expect((await limiter.consume('ip:a', TWO_PER_MINUTE)).allowed).toBe(false);
    expect((await limiter.consume('ip:b', TWO_PER_MINUTE)).allowed).toBe(true);
    expect((await limiter.consume('key:x', TWO_PER_MINUTE)).allowed).toBe(true);
  });

  it('forgets buckets that have refilled once past maxClients, and only those', async () => {
    const time = clock();
    const limiter = new MemoryRateLimiter({ now: time.now, maxClients: 3 });
    await limiter.consume('old-1', TWO_PER_MINUTE);
    await limiter.consume('old-2', TWO_PER_MINUTE);
    time.advance(60_000); // both refilled
    await limiter.consume('busy', TWO_PER_MINUTE);
    await limiter.consume('busy', TWO_PER_MINUTE);
    expect(limiter.size).toBe(3);
    await limiter.consume('new', TWO_PER_MINUTE); // 4 > 3: sweep
    expect(limiter.size).toBe(2); // busy and new remain
    expect((await limiter.consume('busy', TWO_PER_MINUTE)).allowed).toBe(false); // its state survived
    expect(await limiter.consume('old-1', TWO_PER_MINUTE)).toMatchObject({ allowed: true, remaining: 1 }); // as a full bucket would
  });
});
