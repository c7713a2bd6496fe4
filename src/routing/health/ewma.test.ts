import { describe, expect, it } from 'vitest';
import { Ewma, PeakEwma } from './ewma.ts';

describe('Ewma', () => {
  it('reads the prior until the first sample, then the sample', () => {
    const e = new Ewma(10_000, 800);
    expect(e.get()).toBe(800);
    expect(e.sampled).toBe(false);
    e.observe(1_000, 200);
    expect(e.get()).toBe(200);
    expect(e.sampled).toBe(true);
  });

  it('moves halfway to a new level after one half-life of steady samples', () => {
    const e = new Ewma(10_000, 0);
    let now = 0;
    for (; now <= 100_000; now += 100) e.observe(now, 100);
    expect(e.get()).toBeCloseTo(100, 9);
    const start = now;
    for (; now < start + 10_000; now += 100) e.observe(now, 200);
    // One half-life of the new level: half of the weight is new (within a sampling step).
    expect(e.get()).toBeGreaterThan(149);
    expect(e.get()).toBeLessThan(152);
    for (; now < start + 200_000; now += 100) e.observe(now, 200);
    expect(e.get()).toBeCloseTo(200, 3);
  });

  it('averages samples that arrive in the same millisecond instead of ignoring them', () => {
    const e = new Ewma(10_000, 0);
    e.observe(5, 100);
    e.observe(5, 300);
    expect(e.get()).toBe(200);
  });

  it('lets a sample after a long idle gap all but replace the old value', () => {
    const e = new Ewma(1_000, 0);
    e.observe(0, 100);
    e.observe(60_000, 500);
    expect(e.get()).toBeCloseTo(500, 6);
  });

  it('treats an out-of-order sample as simultaneous and ignores non-finite ones', () => {
    const e = new Ewma(1_000, 0);
    e.observe(10_000, 100);
    e.observe(9_000, 300);
    expect(e.get()).toBe(200);
    e.observe(10_000, Number.NaN);
    expect(e.get()).toBe(200);
  });

  it('rejects a non-positive half-life', () => {
    expect(() => new Ewma(0, 1)).toThrow(RangeError);
  });
});

describe('PeakEwma', () => {
  it('reads the prior before any sample', () => {
    expect(new PeakEwma(1_000, 800).get(0)).toBe(800);
  });

  it('jumps up at once to a higher sample', () => {
    const p = new PeakEwma(1_000, 800);
    p.observe(0, 200);
    p.observe(10, 5_000);
    expect(p.get(10)).toBe(5_000);
  });

  it('decays toward lower samples at the half-life pace', () => {
    const p = new PeakEwma(1_000, 10_000);
    p.observe(0, 1_000);
    p.observe(1_000, 200);
    // One half-life after the peak: halfway from 1000 to 200.
    expect(p.get(1_000)).toBeCloseTo(600, 6);
    let now = 1_000;
    for (let i = 0; i < 100; i++) p.observe((now += 100), 200);
    expect(p.get(now)).toBeCloseTo(200, 0);
  });

  it('relaxes a peak above the prior back toward the prior while idle, and keeps a value below it', () => {
    const p = new PeakEwma(1_000, 800);
    p.observe(0, 4_800);
    expect(p.get(1_000)).toBeCloseTo(2_800, 6);
    expect(p.get(60_000)).toBeCloseTo(800, 6);

    const fast = new PeakEwma(1_000, 800);
    fast.observe(0, 200);
    expect(fast.get(60_000)).toBe(200);
  });

  it('decays from the relaxed value, never rising on a lower sample', () => {
    const p = new PeakEwma(1_000, 800);
    p.observe(0, 4_800);
    const before = p.get(1_000);
    p.observe(1_000, 1_000);
    expect(p.get(1_000)).toBeLessThanOrEqual(before);
    expect(p.get(1_000)).toBeGreaterThanOrEqual(1_000);
  });
});
