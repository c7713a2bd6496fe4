import { describe, expect, it } from 'vitest';
import type { HealthEvent } from './deployment-health.ts';
import { DEFAULT_HEALTH_CONFIG, HealthRegistry } from './registry.ts';

describe('HealthRegistry', () => {
  it('creates entries lazily and returns the same one afterwards', () => {
    const r = new HealthRegistry();
    expect(r.peek('a')).toBeUndefined();
    const a = r.get('a');
    expect(r.get('a')).toBe(a);
    expect(r.peek('a')).toBe(a);
    expect(r.delete('a')).toBe(true);
    expect(r.peek('a')).toBeUndefined();
  });

  it('applies a new config to existing and new entries; missing fields take defaults', () => {
    const r = new HealthRegistry({ defaultTtftMs: 1_000 });
    const a = r.get('a');
    expect(a.ttftMs()).toBe(1_000);
    r.configure({ defaultTtftMs: 500, failureThreshold: 1 });
    expect(a.ttftMs()).toBe(500);
    expect(r.get('b').ttftMs()).toBe(500);
    expect(r.config.cooldownMs).toBe(DEFAULT_HEALTH_CONFIG.cooldownMs);
    a.onStart(0);
    a.onFailure(0, 'upstream');
    expect(a.circuitState(0)).toBe('open');
  });

  it('rejects an unusable config', () => {
    expect(() => new HealthRegistry({ windowBuckets: 0 })).toThrow(RangeError);
    expect(() => new HealthRegistry({ failureRate: 1.5 })).toThrow(RangeError);
    expect(() => new HealthRegistry({ cooldownMs: 10_000, maxCooldownMs: 5_000 })).toThrow(RangeError);
    const r = new HealthRegistry();
    expect(() => r.configure({ ewmaHalfLifeMs: 0 })).toThrow(RangeError);
    expect(r.config.ewmaHalfLifeMs).toBe(DEFAULT_HEALTH_CONFIG.ewmaHalfLifeMs);
  });

  it('reports every deployment changing to its listener, with the id', () => {
    const seen: [string, HealthEvent][] = [];
    const r = new HealthRegistry({}, (id, event) => seen.push([id, event]));
    r.get('g/p/m').onStart(0);
    r.get('g/p/m').onFailure(0, 'auth');
    expect(seen).toEqual([['g/p/m', { type: 'circuit_open', until: 300_000 }]]);
  });

  it('applies remote events by id', () => {
    const r = new HealthRegistry();
    r.applyRemote(0, 'x', { type: 'cooldown', until: 1_000 });
    expect(r.get('x').available(999)).toBe(false);
  });

  it('snapshots every entry by id', () => {
    const r = new HealthRegistry();
    r.get('a').onStart(0);
    r.get('b');
    const snap = r.snapshot(0);
    expect(Object.keys(snap)).toEqual(['a', 'b']);
    expect(snap.a.in_flight).toBe(1);
    expect(snap.b.state).toBe('closed');
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });
});
