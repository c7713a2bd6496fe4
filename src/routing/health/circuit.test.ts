import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit.ts';

function fail(b: CircuitBreaker, now: number, times: number): void {
  for (let i = 0; i < times; i++) b.onFailure(now);
}

describe('CircuitBreaker', () => {
  it('opens on consecutive failures reaching the threshold', () => {
    const b = new CircuitBreaker({ failureThreshold: 3, minRequests: 100 });
    expect(b.onFailure(0)).toBe('none');
    expect(b.onFailure(1)).toBe('none');
    expect(b.state(1)).toBe('closed');
    expect(b.onFailure(2)).toBe('opened');
    expect(b.state(2)).toBe('open');
    expect(b.openUntil).toBe(30_002);
    expect(b.allows(2)).toBe(false);
  });

  it('resets the consecutive count on a success', () => {
    const b = new CircuitBreaker({ failureThreshold: 3, minRequests: 100 });
    fail(b, 0, 2);
    b.onSuccess(1);
    fail(b, 2, 2);
    expect(b.state(2)).toBe('closed');
    expect(b.consecutiveFailures).toBe(2);
  });

  it('opens on the failure rate over the window once minRequests outcomes are in it', () => {
    const b = new CircuitBreaker({ failureThreshold: 100, minRequests: 10, failureRate: 0.5 });
    let now = 0;
    // Alternating: 50 % failures, but below minRequests the rate is not judged.
    for (let i = 0; i < 4; i++) {
      b.onSuccess((now += 100));
      expect(b.onFailure((now += 100))).toBe('none');
    }
    b.onSuccess((now += 100));
    expect(b.requests(now)).toBe(9);
    expect(b.onFailure((now += 100))).toBe('opened');
  });

  it('does not open below the failure rate or below minRequests', () => {
    const b = new CircuitBreaker({ failureThreshold: 100, minRequests: 10, failureRate: 0.5 });
    fail(b, 0, 9);
    expect(b.state(0)).toBe('closed');

    const c = new CircuitBreaker({ failureThreshold: 100, minRequests: 10, failureRate: 0.5 });
    for (let i = 0; i < 12; i++) c.onSuccess(i);
    fail(c, 20, 11);
    expect(c.state(20)).toBe('closed');
  });

  it('forgets failures that left the window', () => {
    const b = new CircuitBreaker({ failureThreshold: 100, minRequests: 10, windowMs: 60_000 });
    fail(b, 0, 9);
    b.onSuccess(1);
    expect(b.onFailure(120_000)).toBe('none');
    expect(b.requests(120_000)).toBe(1);
  });

  it('reads half-open after the cooldown and admits one probe at a time', () => {
    const b = new CircuitBreaker({ failureThreshold: 1 });
    b.onFailure(0);
    expect(b.state(29_999)).toBe('open');
    expect(b.tryAcquireProbe(29_999)).toBe(false);
    expect(b.state(30_000)).toBe('half_open');
    expect(b.allows(30_000)).toBe(true);
    expect(b.tryAcquireProbe(30_000)).toBe(true);
    expect(b.allows(30_001)).toBe(false);
    expect(b.tryAcquireProbe(30_001)).toBe(false);
    b.releaseProbe();
    expect(b.tryAcquireProbe(30_002)).toBe(true);
  });

  it('closes on a probe success, resetting counts and cooldown', () => {
    const b = new CircuitBreaker({ failureThreshold: 2 });
    fail(b, 0, 2);
    b.tryAcquireProbe(30_000);
    b.onFailure(30_100); // re-opened for 60 s
    b.tryAcquireProbe(90_100);
    expect(b.onSuccess(90_200)).toBe('closed');
    expect(b.state(90_200)).toBe('closed');
    expect(b.probeInFlight).toBe(false);
    expect(b.consecutiveFailures).toBe(0);
    expect(b.requests(90_200)).toBe(0);
    expect(b.currentCooldownMs).toBe(30_000);
    // One failure is not enough again: the old ones were reset.
    expect(b.onFailure(90_300)).toBe('none');
  });

  it('re-opens on a probe failure with the cooldown doubled, up to maxCooldownMs', () => {
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 30_000, maxCooldownMs: 100_000 });
    b.onFailure(0);
    expect(b.openUntil).toBe(30_000);
    let now = 30_000;
    const expected = [60_000, 100_000, 100_000];
    for (const cooldown of expected) {
      expect(b.tryAcquireProbe(now)).toBe(true);
      expect(b.onFailure(now)).toBe('opened');
      expect(b.probeInFlight).toBe(false);
      expect(b.openUntil).toBe(now + cooldown);
      expect(b.state(now + cooldown - 1)).toBe('open');
      now += cooldown;
    }
  });

  it('ignores outcomes of earlier requests while the cooldown runs', () => {
    const b = new CircuitBreaker({ failureThreshold: 1 });
    b.onFailure(0);
    expect(b.onSuccess(1_000)).toBe('none');
    expect(b.onFailure(2_000)).toBe('none');
    expect(b.openUntil).toBe(30_000);
  });

  it('force-opens for the given time without touching the backoff, keeping a longer open period', () => {
    const b = new CircuitBreaker();
    expect(b.forceOpen(0, 300_000)).toBe('opened');
    expect(b.state(299_999)).toBe('open');
    expect(b.forceOpen(1_000, 10_000)).toBe('none');
    expect(b.openUntil).toBe(300_000);
    expect(b.currentCooldownMs).toBe(30_000);
    expect(b.state(300_000)).toBe('half_open');
  });

  it('holds open until an absolute time, ignoring one already past', () => {
    const b = new CircuitBreaker();
    expect(b.holdOpenUntil(10_000, 5_000)).toBe('none');
    expect(b.state(10_000)).toBe('closed');
    expect(b.holdOpenUntil(10_000, 20_000)).toBe('opened');
    expect(b.state(19_999)).toBe('open');
  });

  it('applies a new config, keeping a running open period', () => {
    const b = new CircuitBreaker({ failureThreshold: 5 });
    fail(b, 0, 3);
    b.configure({ failureThreshold: 3, cooldownMs: 10_000 });
    expect(b.onFailure(1)).toBe('opened');
    expect(b.openUntil).toBe(10_001);
    b.configure({ cooldownMs: 60_000 });
    expect(b.openUntil).toBe(10_001);
  });
});
