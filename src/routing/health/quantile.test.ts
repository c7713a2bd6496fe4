import { describe, expect, it } from 'vitest';
import { RecentQuantiles } from './quantile.ts';

describe('RecentQuantiles', () => {
  it('has no quantile before a sample', () => {
    expect(new RecentQuantiles().p(0.9)).toBeUndefined();
  });

  it('interpolates between closest ranks like numpy', () => {
    const q = new RecentQuantiles(128, 1);
    // Inserted out of order; numpy.percentile(range(1, 101), [50, 90, 99]) = 50.5, 90.1, 99.01.
    for (let i = 1; i <= 100; i++) q.add((i * 37) % 101); // a permutation of 1..100
    expect(q.p(0.5)).toBeCloseTo(50.5, 9);
    expect(q.p(0.9)).toBeCloseTo(90.1, 9);
    expect(q.p(0.99)).toBeCloseTo(99.01, 9);
    expect(q.p(0)).toBe(1);
    expect(q.p(1)).toBe(100);
  });

  it('reflects each of the first samples at once', () => {
    const q = new RecentQuantiles(128, 16);
    q.add(100);
    expect(q.p(0.9)).toBe(100);
    q.add(200);
    expect(q.p(0.9)).toBe(190);
  });

  it('keeps only the most recent `capacity` samples', () => {
    const q = new RecentQuantiles(10, 1);
    for (let i = 1; i <= 1_000; i++) q.add(i);
    expect(q.size).toBe(10);
    expect(q.p(0)).toBe(991);
    expect(q.p(1)).toBe(1_000);
  });

  it('recomputes at most every K insertions once warmed up', () => {
    const q = new RecentQuantiles(8, 4);
    for (let i = 0; i < 8; i++) q.add(10);
    expect(q.p(1)).toBe(10);
    q.add(1_000);
    q.add(1_000);
    q.add(1_000);
    expect(q.p(1)).toBe(10);
    q.add(1_000);
    expect(q.p(1)).toBe(1_000);
  });

  it('keeps the newest samples when resized', () => {
    const q = new RecentQuantiles(10, 1);
    for (let i = 1; i <= 25; i++) q.add(i);
    const r = q.resized(4, 1);
    expect(r.size).toBe(4);
    expect(r.p(0)).toBe(22);
    expect(r.p(1)).toBe(25);
  });
});
