// The Node edge's in-process rate limiter: the same admission as the Durable Object (tokens by cost,
// generations in flight), one state per client, with a clock the test controls; states that are the
// same as none are forgotten to keep memory bounded without changing any answer.
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../edge/node/memory-rate-limiter';
import type { AdmissionPolicy } from '../../edge/rate-limit/admission';

const TWO_PER_MINUTE: AdmissionPolicy = { bucket: { capacity: 2, windowSeconds: 60 }, maxInFlight: 0 };
let leases = 0;
const ask = (policy: AdmissionPolicy = TWO_PER_MINUTE, cost = 1) => ({ policy, cost, leaseId: `lease-${leases++}`, leaseMs: 150_000 });

function clock(startMs = 1_000_000) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('MemoryRateLimiter', () => {
  it('allows a burst of `capacity`, then refuses with the seconds until the next token', async () => {
    const time = clock();
    const limiter = new MemoryRateLimiter({ now: time.now });
    expect(await limiter.admit('ip:a', ask())).toEqual({
      allowed: true,
      rate: { allowed: true, cost: 1, limit: 2, windowSeconds: 60, remaining: 1, resetSeconds: 30, retryAfterSeconds: 0 },
    });
    expect(await limiter.admit('ip:a', ask())).toMatchObject({ allowed: true, rate: { remaining: 0, resetSeconds: 60 } });
    expect(await limiter.admit('ip:a', ask())).toMatchObject({ allowed: false, reason: 'rate-limited', rate: { retryAfterSeconds: 30 } });
    time.advance(10_000);
    expect(await limiter.admit('ip:a', ask())).toMatchObject({ allowed: false, rate: { retryAfterSeconds: 20 } });
    time.advance(20_000); // one token back after 30 s (2 per 60 s)
    expect(await limiter.admit('ip:a', ask())).toMatchObject({ allowed: true, rate: { remaining: 0 } });
  });

  it('charges the cost, as the Durable Object does', async () => {
    const limiter = new MemoryRateLimiter({ now: clock().now });
    const ten: AdmissionPolicy = { bucket: { capacity: 10, windowSeconds: 60 }, maxInFlight: 0 };
    expect(await limiter.admit('ip:a', ask(ten, 8))).toMatchObject({ allowed: true, rate: { remaining: 2 } });
    expect(await limiter.admit('ip:a', ask(ten, 3))).toMatchObject({ allowed: false, rate: { cost: 3, retryAfterSeconds: 6 } });
    expect(await limiter.admit('ip:a', ask(ten, 2))).toMatchObject({ allowed: true, rate: { remaining: 0 } });
  });

  it('keeps one state per client', async () => {
    const limiter = new MemoryRateLimiter({ now: clock().now });
    await limiter.admit('ip:a', ask());
    await limiter.admit('ip:a', ask());
    expect((await limiter.admit('ip:a', ask())).allowed).toBe(false);
    expect((await limiter.admit('ip:b', ask())).allowed).toBe(true);
    expect((await limiter.admit('key:x', ask())).allowed).toBe(true);
  });

  it('caps generations in flight until they are released, and forgets a client once nothing is left of it', async () => {
    const limiter = new MemoryRateLimiter({ now: clock().now });
    const capOnly: AdmissionPolicy = { bucket: undefined, maxInFlight: 2 };
    const [first, second, third] = [ask(capOnly), ask(capOnly), ask(capOnly)];
    expect((await limiter.admit('ip:a', first)).allowed).toBe(true);
    expect((await limiter.admit('ip:a', second)).allowed).toBe(true);
    expect(await limiter.admit('ip:a', third)).toEqual({ allowed: false, reason: 'in-flight', inFlight: 2 });
    await limiter.release('ip:a', first.leaseId);
    expect((await limiter.admit('ip:a', third)).allowed).toBe(true);
    await limiter.release('ip:a', second.leaseId);
    await limiter.release('ip:a', third.leaseId);
    expect(limiter.size).toBe(0);
    await limiter.release('ip:unknown', 'no-such-lease'); // harmless
  });

  it('forgets states that are the same as none once past maxClients, and only those', async () => {
    const time = clock();
    const limiter = new MemoryRateLimiter({ now: time.now, maxClients: 3 });
    await limiter.admit('old-1', ask());
    await limiter.admit('old-2', ask());
    time.advance(60_000); // both refilled; their leases (never released) still run for 90 s
    await limiter.admit('busy', ask());
    await limiter.admit('busy', ask());
    expect(limiter.size).toBe(3);
    await limiter.admit('new', ask()); // 4 > 3: sweep, but every lease is live
    expect(limiter.size).toBe(4);
    time.advance(150_000); // every lease has run out; busy and new are full again
    await limiter.admit('busy', ask());
    await limiter.admit('busy', ask());
    await limiter.admit('newer', ask()); // no sweep yet: the last one freed nothing, so the next waits for 8
    expect(limiter.size).toBe(5);
    for (let i = 0; i < 4; i++) await limiter.admit(`burst-${i}`, ask()); // 9 > 8: sweep
    expect(limiter.size).toBe(6); // old-1, old-2 and new are gone; busy, newer and the four bursts remain
    expect((await limiter.admit('busy', ask())).allowed).toBe(false); // its state survived
    expect(await limiter.admit('old-1', ask())).toMatchObject({ allowed: true, rate: { remaining: 1 } }); // as a full bucket would
  });
});
