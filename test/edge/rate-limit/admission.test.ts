// One client's admission, pure (edge/rate-limit/admission.ts): the in-flight cap before the bucket,
// leases that end by release or by running out, and when a state may be forgotten.
import { describe, expect, it } from 'vitest';
import { type AdmissionPolicy, admit, type ClientState, forgettableAtMs, release } from '../../../edge/rate-limit/admission';
import { perMinutePolicy } from '../../../edge/rate-limit/token-bucket';

const policy: AdmissionPolicy = { bucket: perMinutePolicy(10), maxInFlight: 2 };
const ask = (leaseId: string, cost = 1, leaseMs = 150_000) => ({ policy, cost, leaseId, leaseMs });

describe('admit', () => {
  it('caps generations in flight, refusing the next without touching the bucket', () => {
    const a = admit(undefined, ask('a'), 0);
    const b = admit(a.state, ask('b'), 0);
    expect([a.decision.allowed, b.decision.allowed]).toEqual([true, true]);
    const c = admit(b.state, ask('c'), 0);
    expect(c.decision).toEqual({ allowed: false, reason: 'in-flight', inFlight: 2 });
    expect(c.state.bucket).toEqual(b.state.bucket);
    // A release frees a slot.
    const d = admit(release(b.state, 'a', 1_000), ask('d'), 1_000);
    expect(d.decision).toMatchObject({ allowed: true, rate: { remaining: 7 } });
    expect(Object.keys(d.state.leases).sort()).toEqual(['b', 'd']);
  });

  it('counts a client’s concurrent requests for one picture (one lease name, the key) as one slot', () => {
    const held = admit(admit(undefined, ask('key-a'), 0).state, ask('key-b'), 0).state;
    const again = admit(held, ask('key-a'), 0);
    expect(again.decision).toMatchObject({ allowed: true, rate: { remaining: 7 } }); // charged, but no third slot
    expect(Object.keys(again.state.leases).sort()).toEqual(['key-a', 'key-b']);
    expect(admit(again.state, ask('key-c'), 0).decision).toMatchObject({ allowed: false, reason: 'in-flight' });
  });

  it('lets a lease end by itself, so a generation whose release never came does not hold its slot', () => {
    const held = admit(admit(undefined, ask('a', 1, 10_000), 0).state, ask('b', 1, 10_000), 0).state;
    expect(admit(held, ask('c'), 9_999).decision.allowed).toBe(false);
    expect(admit(held, ask('c'), 10_000).decision.allowed).toBe(true);
  });

  it('refuses a generation the bucket cannot pay for, taking no lease', () => {
    const dear = admit(undefined, ask('a', 8), 0);
    const refused = admit(dear.state, ask('b', 4), 0);
    expect(refused.decision).toMatchObject({ allowed: false, reason: 'rate-limited', rate: { cost: 4, retryAfterSeconds: 12 } });
    expect(Object.keys(refused.state.leases)).toEqual(['a']);
  });

  it('counts only in-flight generations when the rate limit is off, and nothing when both are off', () => {
    const capOnly = { ...ask('a'), policy: { bucket: undefined, maxInFlight: 1 } };
    const first = admit(undefined, capOnly, 0);
    expect(first.decision).toEqual({ allowed: true, rate: undefined });
    expect(admit(first.state, { ...capOnly, leaseId: 'b' }, 0).decision).toMatchObject({ allowed: false, reason: 'in-flight' });
    const open = { ...ask('a', 100), policy: { bucket: undefined, maxInFlight: 0 } };
    let state: ClientState | undefined;
    for (let i = 0; i < 50; i++) state = admit(state, { ...open, leaseId: `l${i}` }, 0).state;
    expect(admit(state, open, 0).decision.allowed).toBe(true);
  });
});

describe('forgettableAtMs', () => {
  it('is when the bucket is full again and no lease is left', () => {
    const charged = admit(undefined, ask('a', 3, 60_000), 0).state; // 3 tokens at 1 per 6 s: full at 18 s
    expect(forgettableAtMs(charged, 0)).toBe(60_000); // the lease ends later than the refill
    const released = release(charged, 'a', 5_000);
    expect(forgettableAtMs(released, 5_000)).toBe(18_000);
    expect(forgettableAtMs(released, 18_000)).toBeLessThanOrEqual(18_000);
  });

  it('is at once for a state with no bucket once its last lease is released', () => {
    const capOnly = { ...ask('a'), policy: { bucket: undefined, maxInFlight: 1 } };
    const held = admit(undefined, capOnly, 0).state;
    expect(forgettableAtMs(held, 0)).toBe(150_000);
    expect(forgettableAtMs(release(held, 'a', 10), 10)).toBeLessThanOrEqual(10);
  });
});
