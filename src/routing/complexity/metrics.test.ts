import { describe, expect, it } from 'vitest';
import { apgrOf, costQualityCurve, cptOf, evaluateRouting, quantile } from './metrics.ts';

describe('quantile', () => {
  it('interpolates linearly between order statistics (numpy default)', () => {
    const s = [0, 10, 20, 30];
    expect(quantile(s, 0)).toBe(0);
    expect(quantile(s, 1)).toBe(30);
    expect(quantile(s, 0.5)).toBe(15);
    expect(quantile(s, 1 / 3)).toBeCloseTo(10, 12);
    expect(quantile([7], 0.3)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('cost–quality curve and APGR', () => {
  // Ten prompts: on five only the strong model is right, on five both are.
  const strong = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  const weak = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];

  it('a perfect router recovers the whole gap with half the calls', () => {
    const scores = strong.map((s, i) => s - weak[i]); // 1 on the five that need the strong model
    const m = evaluateRouting(scores, strong, weak);
    expect(m.strongMean).toBe(1);
    expect(m.weakMean).toBe(0.5);
    // Thresholds: 0 (q0..q40) -> all; 0.5 (q50) and 1 (q60..q90) -> the five; > 1 -> none.
    expect(m.curve[0]).toMatchObject({ strongShare: 0, pgr: 0 });
    expect(m.curve.at(-1)).toMatchObject({ strongShare: 1, pgr: 1 });
    expect(m.curve.filter((p) => p.strongShare === 0.5).every((p) => p.pgr === 1)).toBe(true);
    // Curve (0,0) -> (0.5,1) -> (1,1): area 0.25 + 0.5.
    expect(m.apgr).toBeCloseTo(0.75, 12);
    expect(m.cpt50).toBeCloseTo(0.25, 12);
    expect(m.cpt80).toBeCloseTo(0.4, 12);
  });

  it('a reversed router recovers nothing until it has spent half the calls', () => {
    const scores = strong.map((s, i) => weak[i] - s);
    const m = evaluateRouting(scores, strong, weak);
    // Curve (0,0) -> (0.5,0) -> (1,1): area 0.25.
    expect(m.apgr).toBeCloseTo(0.25, 12);
    expect(m.cpt50).toBeCloseTo(0.75, 12);
    expect(m.cpt80).toBeCloseTo(0.9, 12);
  });

  it('ties everywhere: all-strong or all-weak, the random-router diagonal (APGR 0.5)', () => {
    const scores = new Array(10).fill(0.3);
    const m = evaluateRouting(scores, strong, weak);
    const shares = [...new Set(m.curve.map((p) => p.strongShare))];
    expect(shares).toEqual([0, 1]);
    expect(m.apgr).toBeCloseTo(0.5, 12);
    expect(m.cpt50).toBeCloseTo(0.5, 12);
    expect(m.cpt80).toBeCloseTo(0.8, 12);
  });

  it('when every prompt gains equally, any ordering gives PGR = c (APGR 0.5)', () => {
    const scores = [5, 3, 9, 1, 7, 2, 8, 4, 6, 10];
    const m = evaluateRouting(scores, new Array(10).fill(1), new Array(10).fill(0));
    for (const p of m.curve) expect(p.pgr).toBeCloseTo(p.strongShare, 12);
    expect(m.apgr).toBeCloseTo(0.5, 12);
    expect(m.curve).toHaveLength(11);
    expect(m.curve.map((p) => p.strongShare)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((x) => expect.closeTo(x, 12)));
  });

  it('the endpoints are the weak model alone (PGR 0) and the strong model alone (PGR 1)', () => {
    const scores = [0.1, 0.9, 0.5, 0.3];
    const s = [0.7, 0.2, 1, 0.4];
    const w = [0.1, 0.5, 0.2, 0.6];
    const curve = costQualityCurve(scores, s, w);
    expect(curve[0].strongShare).toBe(0);
    expect(curve[0].quality).toBeCloseTo((0.1 + 0.5 + 0.2 + 0.6) / 4, 12);
    expect(curve[0].pgr).toBeCloseTo(0, 12);
    expect(curve.at(-1)?.strongShare).toBe(1);
    expect(curve.at(-1)?.pgr).toBeCloseTo(1, 12);
  });

  it('an oracle can exceed 1 when the weak model alone is right on some prompts', () => {
    // Prompt 0: only strong right; prompt 1: only weak right.
    const m = evaluateRouting([1, 0], [1, 0], [0, 1]);
    // strong mean 0.5 = weak mean 0.5: no gap, PGR undefined.
    expect(m.apgr).toBeNaN();
    expect(m.cpt50).toBeNull();
    const o = evaluateRouting([1, 0, 1, 0.5], [1, 0, 1, 1], [0, 1, 0, 1]);
    expect(Math.max(...o.curve.map((p) => p.pgr))).toBeGreaterThan(1);
    expect(o.apgr).toBeGreaterThan(1);
  });

  it('CPT interpolates along the piecewise-linear curve and reports the first crossing', () => {
    const curve = [
      { threshold: 3, strongShare: 0, quality: 0, pgr: 0 },
      { threshold: 2, strongShare: 0.2, quality: 0, pgr: 0.6 },
      { threshold: 1, strongShare: 0.6, quality: 0, pgr: 0.4 },
      { threshold: 0, strongShare: 1, quality: 0, pgr: 1 },
    ];
    expect(cptOf(curve, 0.5)).toBeCloseTo(0.2 * (0.5 / 0.6), 12);
    // 0.8 first reached between (0.6, 0.4) and (1, 1): 0.6 + 0.4 * (0.4 / 0.6)
    expect(cptOf(curve, 0.8)).toBeCloseTo(0.6 + 0.4 * (0.4 / 0.6), 12);
    expect(cptOf(curve, 1.5)).toBeNull();
    expect(apgrOf(curve)).toBeCloseTo(0.2 * 0.3 + 0.4 * 0.5 + 0.4 * 0.7, 12);
  });

  it('works with graded (MT-Bench style) scores', () => {
    const m = evaluateRouting([0.9, 0.1], [10, 9], [4, 9]);
    // strong mean 9.5, weak mean 6.5: routing prompt 0 alone recovers the full gap.
    expect(m.curve.find((p) => p.strongShare === 0.5)?.pgr).toBeCloseTo(1, 12);
  });

  it('rejects mismatched lengths and non-finite scores', () => {
    expect(() => evaluateRouting([1, 2], [1], [0, 1])).toThrow(RangeError);
    expect(() => evaluateRouting([Number.NaN], [1], [0])).toThrow(RangeError);
  });
});
