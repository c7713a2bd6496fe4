import { describe, expect, it } from 'vitest';
import { SlidingLog, tickEnd, tickMs } from './sliding-log.ts';

/**
 * The definition, kept naively: every (time, cost) added, summed per tick of a thousandth of the
 * window and kept at the tick's end (an adjustment changes the cost of the tick of the hit it
 * corrects), over those still in the window.
 */
class Reference {
  entries: Array<{ at: number; cost: number }> = [];
  readonly tick: number;
  constructor(readonly windowMs: number) {
    this.tick = Math.max(1, Math.floor(windowMs / 1000));
  }
  live(now: number): Array<{ at: number; cost: number }> {
    const perTick = new Map<number, number>();
    for (const e of this.entries) {
      const end = Math.ceil(e.at / this.tick) * this.tick;
      if (end > now - this.windowMs) perTick.set(end, (perTick.get(end) ?? 0) + e.cost);
    }
    return [...perTick].map(([at, cost]) => ({ at, cost })).sort((a, b) => a.at - b.at);
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

describe('tickEnd', () => {
  it('rounds a hit up to the end of its tick, a thousandth of the window and at least 1 ms', () => {
    expect([tickMs(60_000), tickMs(1000), tickMs(999), tickMs(86_400_000)]).toEqual([60, 1, 1, 86_400]);
    expect([tickEnd(0, 60_000), tickEnd(1, 60_000), tickEnd(60, 60_000), tickEnd(61, 60_000)]).toEqual([0, 60, 60, 120]);
    expect(tickEnd(1_000_003, 500)).toBe(1_000_003);
  });
});

describe('SlidingLog', () => {
  it.each([500, 5_000])('agrees with the definition through growth, compaction, same-tick hits and adjustments of earlier hits (window %i ms)', (windowMs) => {
    const rand = random(7);
    const log = new SlidingLog(windowMs);
    const ref = new Reference(windowMs);
    let now = 0;
    for (let step = 0; step < 20_000; step++) {
      now += Math.floor(rand() * 3); // several hits per millisecond at times, gaps at others
      if (rand() < 0.002) now += windowMs * 2; // the window empties
      log.evict(now);
      const at = rand() < 0.1 ? Math.max(0, now - Math.floor(rand() * windowMs)) : now; // an adjustment of an earlier hit
      const cost = rand() < 0.1 ? -Math.floor(rand() * 3) : 1 + Math.floor(rand() * 5);
      if (tickEnd(at, windowMs) > now - windowMs) {
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

  it('holds one entry per tick, in arrays at most twice that, and gives memory back once empty', () => {
    const log = new SlidingLog(60_000);
    for (let t = 0; t < 60_000; t++) for (let hit = 0; hit < 3; hit++) log.add(t, 1);
    // Ticks end at 0, 60, …, 60,000: 1,001 entries for 60,000 milliseconds of hits.
    expect(log.size).toBe(1001);
    expect(log.sum).toBe(180_000);
    // A full minute keeps rolling without growing: each tick leaves as a new one arrives.
    let largest = 0;
    for (let t = 60_000; t < 180_000; t++) {
      log.evict(t);
      log.add(t, 1);
      largest = Math.max(largest, log.size);
    }
    expect(largest).toBe(1001);
    expect(log.capacity).toBeLessThanOrEqual(2048);
    log.evict(10_000_000);
    expect([log.size, log.sum]).toEqual([0, 0]);
    expect(log.capacity).toBeLessThanOrEqual(1024);
  });

  it('counts a hit for the whole window after it was made, and at most one tick longer', () => {
    const log = new SlidingLog(60_000);
    log.add(1_000_001, 1); // kept at the end of its tick, 1,000,020
    for (const now of [1_000_001, 1_060_000, 1_060_001, 1_060_019]) {
      log.evict(now);
      expect(log.sum).toBe(1);
    }
    expect(log.resetMs(1_060_001)).toBe(19);
    log.evict(1_060_020);
    expect(log.sum).toBe(0);
  });
});
