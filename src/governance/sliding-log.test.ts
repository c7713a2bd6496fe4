import { describe, expect, it } from 'vitest';
import { SlidingLog } from './sliding-log.ts';

/**
 * The definition, kept naively: every (time, cost) added, summed per millisecond (an adjustment
 * changes the cost of the hit it corrects) over those still in the window.
 */
class Reference {
  entries: Array<{ at: number; cost: number }> = [];
  constructor(readonly windowMs: number) {}
  live(now: number): Array<{ at: number; cost: number }> {
    const perMs = new Map<number, number>();
    for (const e of this.entries) if (e.at > now - this.windowMs) perMs.set(e.at, (perMs.get(e.at) ?? 0) + e.cost);
    return [...perMs].map(([at, cost]) => ({ at, cost })).sort((a, b) => a.at - b.at);
  }
  sum(now: number): number {
    return this.live(now).reduce((s, e) => s + e.cost, 0);
  }
  waitFor(need: number, now: number): number {
    let freed = 0;
    for (const e of this.live(now)) {
      freed += e.cost;
      if (freed >= need) return Math.max(0, e.at + this.windowMs - now);
    }
    return this.windowMs;
  }
  resetMs(now: number): number {
    const live = this.live(now);
    return live.length === 0 ? 0 : Math.max(0, live[live.length - 1].at + this.windowMs - now);
  }
}

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('SlidingLog', () => {
  it('agrees with the definition through growth, compaction, same-millisecond hits and adjustments of earlier hits', () => {
    const rand = random(7);
    const windowMs = 500;
    const log = new SlidingLog(windowMs);
    const ref = new Reference(windowMs);
    let now = 0;
    for (let step = 0; step < 20_000; step++) {
      now += Math.floor(rand() * 3); // several hits per millisecond at times, gaps at others
      if (rand() < 0.002) now += windowMs * 2; // the window empties
      log.evict(now);
      const at = rand() < 0.1 ? Math.max(0, now - Math.floor(rand() * windowMs)) : now; // an adjustment of an earlier hit
      const cost = rand() < 0.1 ? -Math.floor(rand() * 3) : 1 + Math.floor(rand() * 5);
      if (at > now - windowMs) {
        log.add(at, cost);
        ref.entries.push({ at, cost });
      }
      if (step % 97 === 0) {
        log.evict(now);
        expect(log.sum).toBe(ref.sum(now));
        expect(log.size).toBe(ref.live(now).length);
        expect(log.resetMs(now)).toBe(ref.resetMs(now));
        const need = Math.floor(rand() * 40);
        expect(log.waitFor(need, now)).toBe(ref.waitFor(need, now));
      }
    }
  });

  it('holds one entry per millisecond, in arrays at most twice that, and gives memory back once empty', () => {
    const log = new SlidingLog(60_000);
    for (let t = 0; t < 60_000; t++) for (let hit = 0; hit < 3; hit++) log.add(t, 1);
    expect(log.size).toBe(60_000);
    expect(log.sum).toBe(180_000);
    // A full minute keeps rolling without growing: each millisecond leaves as a new one arrives.
    for (let t = 60_000; t < 180_000; t++) {
      log.evict(t);
      log.add(t, 1);
    }
    expect(log.size).toBe(60_000);
    expect(log.capacity).toBeLessThanOrEqual(2 * 65_536);
    log.evict(10_000_000);
    expect([log.size, log.sum]).toEqual([0, 0]);
    expect(log.capacity).toBeLessThanOrEqual(1024);
  });
});
