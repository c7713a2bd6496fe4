import { describe, expect, it } from 'vitest';
import type { ErrorClass } from '../../core/errors.ts';
import type { HealthEvent } from './deployment-health.ts';
import { DeploymentHealth, FAILURE_IMPACT } from './deployment-health.ts';

const OK = { ttftMs: 300, durationMs: 2_300, completionTokens: 100, totalTokens: 150 };

function recorder(): { events: HealthEvent[]; listener: (id: string, event: HealthEvent) => void } {
  const events: HealthEvent[] = [];
  return { events, listener: (_id, event) => events.push(event) };
}

/** One attempt from start to failure. */
function failed(h: DeploymentHealth, now: number, errorClass: ErrorClass, retryAfterMs?: number): void {
  h.onStart(now);
  h.onFailure(now, errorClass, retryAfterMs);
}

describe('DeploymentHealth signals', () => {
  it('reads the priors before any traffic', () => {
    const h = new DeploymentHealth('g/p/m');
    expect(h.ttftMs()).toBe(800);
    expect(h.ttftP90Ms()).toBe(1_200);
    expect(h.peakLatencyMs(0)).toBe(800);
    expect(h.tokensPerSecond()).toBe(60);
    expect(h.successRate(0)).toBe(1);
    expect(h.inFlight).toBe(0);
    expect(h.rpm(0)).toBe(0);
    expect(h.tpm(0)).toBe(0);
    expect(h.cooldownUntil).toBe(0);
    expect(h.circuitState(0)).toBe('closed');
    expect(h.available(0)).toBe(true);
  });

  it('samples TTFT, tokens/s, requests and tokens per minute from successes', () => {
    const h = new DeploymentHealth('d');
    h.onStart(0);
    h.onSuccess(2_300, OK);
    expect(h.ttftMs()).toBe(300);
    expect(h.ttftP90Ms()).toBe(300);
    expect(h.peakLatencyMs(2_300)).toBe(300);
    // 100 tokens over the 2 s after the first token.
    expect(h.tokensPerSecond()).toBe(50);
    expect(h.rpm(2_300)).toBe(1);
    expect(h.tpm(2_300)).toBe(150);
    expect(h.rpm(61_000)).toBe(0);
  });

  it('skips tokens/s for short completions and for responses without a generation phase', () => {
    const h = new DeploymentHealth('d');
    h.onStart(0);
    h.onSuccess(1_000, { ttftMs: 300, durationMs: 1_000, completionTokens: 7, totalTokens: 20 });
    h.onStart(0);
    h.onSuccess(1_000, { ttftMs: 1_000, durationMs: 1_000, completionTokens: 500, totalTokens: 600 });
    expect(h.tokensPerSecond()).toBe(60);
    h.onStart(0);
    h.onSuccess(1_000, { ttftMs: 999.5, durationMs: 1_000, completionTokens: 8, totalTokens: 20 });
    // Generation time floored at 1 ms.
    expect(h.tokensPerSecond()).toBe(8_000);
  });

  it('smooths the success rate so one failure does not zero it', () => {
    const h = new DeploymentHealth('d');
    failed(h, 0, 'upstream');
    expect(h.successRate(0)).toBe(0.8);
    h.onStart(1);
    h.onSuccess(1, OK);
    expect(h.successRate(1)).toBeCloseTo(5 / 6, 12);
    expect(h.successRate(200_000)).toBe(1);
  });
});

describe('DeploymentHealth failures', () => {
  it('classifies every error class', () => {
    expect(Object.keys(FAILURE_IMPACT).sort()).toHaveLength(14);
  });

  it('cools down after a 429 for Retry-After, without tripping the circuit', () => {
    const { events, listener } = recorder();
    const h = new DeploymentHealth('d', { failureThreshold: 2 }, listener);
    for (let i = 0; i < 5; i++) failed(h, 1_000, 'rate_limit', 20_000);
    expect(h.cooldownUntil).toBe(21_000);
    expect(h.available(20_999)).toBe(false);
    expect(h.available(21_000)).toBe(true);
    expect(h.circuitState(21_000)).toBe('closed');
    expect(h.successRate(1_000)).toBeCloseTo(4 / 9, 12);
    expect(events).toEqual([{ type: 'cooldown', until: 21_000 }]);
    expect(h.snapshot(1_000).cooldown_until).toBe(21_000);
    expect(h.snapshot(21_000).cooldown_until).toBeNull();
  });

  it('uses defaultCooldownMs without Retry-After and extends but never shortens a cool-down', () => {
    const { events, listener } = recorder();
    const h = new DeploymentHealth('d', {}, listener);
    failed(h, 0, 'rate_limit');
    expect(h.cooldownUntil).toBe(5_000);
    failed(h, 1_000, 'rate_limit', 1_000);
    expect(h.cooldownUntil).toBe(5_000);
    failed(h, 1_000, 'rate_limit', 10_000);
    expect(h.cooldownUntil).toBe(11_000);
    expect(events).toEqual([
      { type: 'cooldown', until: 5_000 },
      { type: 'cooldown', until: 11_000 },
    ]);
  });

  it.each(['overloaded', 'upstream', 'timeout', 'stream_cut', 'not_found'] as const)('counts %s against the circuit', (errorClass) => {
    const { events, listener } = recorder();
    const h = new DeploymentHealth('d', {}, listener);
    for (let i = 0; i < 4; i++) failed(h, i, errorClass);
    expect(h.circuitState(4)).toBe('closed');
    failed(h, 4, errorClass);
    expect(h.circuitState(4)).toBe('open');
    expect(h.available(4)).toBe(false);
    expect(events).toEqual([{ type: 'circuit_open', until: 30_004 }]);
  });

  it.each(['auth', 'permission'] as const)('opens the circuit for authCooldownMs on %s', (errorClass) => {
    const { events, listener } = recorder();
    const h = new DeploymentHealth('d', {}, listener);
    failed(h, 1_000, errorClass);
    expect(h.circuitState(1_000)).toBe('open');
    expect(h.circuitState(300_999)).toBe('open');
    expect(h.circuitState(301_000)).toBe('half_open');
    expect(h.successRate(1_000)).toBe(0.8);
    expect(events).toEqual([{ type: 'circuit_open', until: 301_000 }]);
  });

  it.each(['bad_request', 'context_length', 'content_policy', 'payload_too_large', 'budget_exceeded', 'internal'] as const)(
    'does not hold %s against the deployment',
    (errorClass) => {
      const { events, listener } = recorder();
      const h = new DeploymentHealth('d', { failureThreshold: 1 }, listener);
      for (let i = 0; i < 20; i++) failed(h, i, errorClass);
      expect(h.circuitState(20)).toBe('closed');
      expect(h.successRate(20)).toBe(1);
      expect(h.cooldownUntil).toBe(0);
      expect(h.inFlight).toBe(0);
      expect(h.rpm(20)).toBe(20);
      expect(events).toEqual([]);
    },
  );
});

describe('DeploymentHealth in-flight and probes', () => {
  it('balances inFlight over success, failure and abandon, never below zero', () => {
    const h = new DeploymentHealth('d');
    h.onStart(0);
    h.onStart(0);
    h.onStart(0);
    expect(h.inFlight).toBe(3);
    h.onSuccess(1, OK);
    h.onFailure(1, 'upstream');
    h.onAbandon(1);
    expect(h.inFlight).toBe(0);
    h.onAbandon(2);
    expect(h.inFlight).toBe(0);
    expect(h.rpm(2)).toBe(3);
  });

  it('admits one probe when half-open; available() does not take the slot', () => {
    const { events, listener } = recorder();
    const h = new DeploymentHealth('d', { failureThreshold: 1 }, listener);
    failed(h, 0, 'upstream');
    expect(h.available(29_999)).toBe(false);
    expect(h.circuitState(30_000)).toBe('half_open');
    expect(h.available(30_000)).toBe(true);
    expect(h.available(30_000)).toBe(true);
    expect(h.onStart(30_000)).toBe(true);
    expect(h.available(30_001)).toBe(false);
    expect(h.onStart(30_001)).toBe(false);
    h.onSuccess(30_500, OK);
    expect(h.circuitState(30_500)).toBe('closed');
    expect(h.available(30_500)).toBe(true);
    expect(events).toEqual([{ type: 'circuit_open', until: 30_000 }, { type: 'closed' }]);
  });

  it('re-opens with a doubled cooldown when the probe fails', () => {
    const h = new DeploymentHealth('d', { failureThreshold: 1 });
    failed(h, 0, 'upstream');
    expect(h.onStart(30_000)).toBe(true);
    h.onFailure(30_000, 'timeout');
    expect(h.circuitState(89_999)).toBe('open');
    expect(h.circuitState(90_000)).toBe('half_open');
  });

  it('releases the probe slot when the probe is abandoned or fails for reasons of its own', () => {
    const h = new DeploymentHealth('d', { failureThreshold: 1 });
    failed(h, 0, 'upstream');
    expect(h.onStart(30_000)).toBe(true);
    h.onAbandon(30_100);
    expect(h.inFlight).toBe(0);
    expect(h.available(30_100)).toBe(true);
    expect(h.onStart(30_200)).toBe(true);
    h.onFailure(30_300, 'context_length');
    expect(h.circuitState(30_300)).toBe('half_open');
    expect(h.available(30_300)).toBe(true);
    expect(h.onStart(30_400)).toBe(true);
    h.onFailure(30_500, 'rate_limit', 1_000);
    expect(h.circuitState(30_500)).toBe('half_open');
    expect(h.available(31_500)).toBe(true);
  });
});

describe('DeploymentHealth remote events and config', () => {
  it('applies remote events without re-broadcasting them', () => {
    const { events, listener } = recorder();
    const h = new DeploymentHealth('d', {}, listener);
    h.applyRemote(1_000, { type: 'circuit_open', until: 50_000 });
    expect(h.circuitState(49_999)).toBe('open');
    expect(h.circuitState(50_000)).toBe('half_open');
    h.applyRemote(2_000, { type: 'cooldown', until: 10_000 });
    expect(h.cooldownUntil).toBe(10_000);
    h.applyRemote(3_000, { type: 'closed' });
    expect(h.circuitState(3_000)).toBe('closed');
    expect(h.available(3_000)).toBe(false);
    expect(h.available(10_000)).toBe(true);
    // A stale open (already over) does not push a closed circuit into half-open.
    h.applyRemote(60_000, { type: 'circuit_open', until: 50_000 });
    expect(h.circuitState(60_000)).toBe('closed');
    expect(events).toEqual([]);
  });

  it('applies a new config to priors and thresholds, keeping samples and counts', () => {
    const h = new DeploymentHealth('d');
    h.onStart(0);
    h.onSuccess(2_300, OK);
    failed(h, 2_400, 'upstream');
    h.configure({ defaultTtftMs: 400, defaultTps: 30, failureThreshold: 2, windowMs: 30_000, windowBuckets: 30 });
    expect(h.ttftMs()).toBe(300);
    expect(h.successRate(2_400)).toBeCloseTo(5 / 6, 12);
    failed(h, 2_500, 'upstream');
    expect(h.circuitState(2_500)).toBe('open');

    const fresh = new DeploymentHealth('e');
    fresh.configure({ defaultTtftMs: 400, defaultTps: 30 });
    expect(fresh.ttftMs()).toBe(400);
    expect(fresh.ttftP90Ms()).toBe(600);
    expect(fresh.tokensPerSecond()).toBe(30);
  });

  it('snapshots plain values', () => {
    const h = new DeploymentHealth('d');
    h.onStart(0);
    h.onStart(0);
    h.onSuccess(2_300, OK);
    expect(h.snapshot(2_300)).toEqual({
      state: 'closed',
      ttft_ms: 300,
      ttft_p90_ms: 300,
      tps: 50,
      success_rate: 1,
      in_flight: 1,
      rpm: 2,
      tpm: 150,
      cooldown_until: null,
    });
  });
});
