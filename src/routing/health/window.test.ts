import { describe, expect, it } from 'vitest';
import { SlidingCounter } from './window.ts';

describe('SlidingCounter', () => {
  it('sums what was added within the window', () => {
    const c = new SlidingCounter(60_000, 60);
    c.add(0, 1);
    c.add(500, 2);
    c.add(30_000, 3);
    expect(c.total(30_000)).toBe(6);
    expect(c.total(59_999)).toBe(6);
  });

  it('forgets counts bucket by bucket as the window slides past them', () => {
    const c = new SlidingCounter(60_000, 60);
    c.add(0, 1);
    c.add(10_000, 10);
    c.add(20_500, 100);
    expect(c.total(60_000)).toBe(110);
    expect(c.total(70_000)).toBe(100);
    // The 20.5 s bucket is the oldest of the window until the 79 s bucket, gone at 80 s.
    expect(c.total(79_999)).toBe(100);
    expect(c.total(80_000)).toBe(0);
  });

  it('clears everything after a gap longer than the window', () => {
    const c = new SlidingCounter(10_000, 10);
    c.add(0, 5);
    c.add(9_000, 5);
    expect(c.total(1_000_000)).toBe(0);
    c.add(1_000_000, 2);
    expect(c.total(1_000_000)).toBe(2);
  });

  it('counts a late event while its bucket is still in the window and drops an older one', () => {
    const c = new SlidingCounter(10_000, 10);
    c.add(9_500, 1);
    c.add(5_000, 1);
    c.add(-1_000, 1);
    expect(c.total(9_500)).toBe(2);
    expect(c.total(15_999)).toBe(1);
  });

  it('carries its total into a resized counter', () => {
    const c = new SlidingCounter(60_000, 60);
    c.add(1_000, 4);
    c.add(2_000, 6);
    const r = c.resized(10_000, 10);
    expect(r.total(2_000)).toBe(10);
    expect(r.total(12_000)).toBe(0);
  });

  it('resets', () => {
    const c = new SlidingCounter();
    c.add(0, 3);
    c.reset();
    expect(c.total(0)).toBe(0);
  });
});
