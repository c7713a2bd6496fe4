// Router evaluation maths, as defined in the routing data README (RouteLLM's definitions):
//   - sweep a threshold t over the 0, 10, …, 100% quantiles of the router's scores; prompts with
//     score >= t go to the strong model (at the last, 100% quantile: score > t, so none do);
//   - c = share of prompts sent to the strong model, r = mean quality of the routed answers;
//   - PGR = (r - r_weak) / (r_strong - r_weak);
//   - APGR = area under PGR(c) over c in [0, 1] (trapezoid rule over those points);
//   - CPT(x) = the smallest c at which the piecewise-linear curve reaches PGR = x.

export interface CurvePoint {
  /** The score threshold: prompts scoring >= threshold go to the strong model (> for the last point). */
  threshold: number;
  /** Share of prompts routed to the strong model, in [0, 1]. */
  strongShare: number;
  /** Mean quality of the routed answers. */
  quality: number;
  /** Performance gap recovered: (quality - weak) / (strong - weak). NaN when strong and weak tie. */
  pgr: number;
}

export interface RoutingMetrics {
  n: number;
  strongMean: number;
  weakMean: number;
  /** The cost–quality curve, sorted by strongShare ascending. */
  curve: CurvePoint[];
  apgr: number;
  /** Smallest strong-call share reaching 50% / 80% of the gap (null when never reached). */
  cpt50: number | null;
  cpt80: number | null;
}

/** Quantile with linear interpolation between order statistics (numpy's default, what pandas.qcut uses). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const frac = pos - lo;
  return frac === 0 ? sorted[lo] : sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length > 0 ? s / values.length : NaN;
}

function checkInputs(scores: ArrayLike<number>, strong: ArrayLike<number>, weak: ArrayLike<number>): void {
  if (scores.length !== strong.length || scores.length !== weak.length) {
    throw new RangeError(`scores, strong and weak must have the same length (${scores.length}, ${strong.length}, ${weak.length})`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new RangeError(`score ${i} is not a finite number`);
  }
}

/**
 * The cost–quality curve from `bins + 1` thresholds at the 0, 1/bins, …, 100% quantiles of the scores
 * (RouteLLM uses bins = 10). Sorted by strong-model share, ascending; it always includes share 1
 * (threshold = min score) and share 0 (the last threshold routes nothing to the strong model).
 */
export function costQualityCurve(scores: ArrayLike<number>, strong: ArrayLike<number>, weak: ArrayLike<number>, bins = 10): CurvePoint[] {
  checkInputs(scores, strong, weak);
  const n = scores.length;
  if (n === 0) return [];
  const sorted = Float64Array.from(scores).sort();
  const strongMean = mean(strong);
  const weakMean = mean(weak);
  const gap = strongMean - weakMean;
  const points: CurvePoint[] = [];
  for (let k = 0; k <= bins; k++) {
    const threshold = quantile(sorted, k / bins);
    const last = k === bins;
    let routed = 0;
    let quality = 0;
    for (let i = 0; i < n; i++) {
      const toStrong = last ? scores[i] > threshold : scores[i] >= threshold;
      if (toStrong) {
        routed++;
        quality += strong[i];
      } else quality += weak[i];
    }
    quality /= n;
    points.push({ threshold, strongShare: routed / n, quality, pgr: gap !== 0 ? (quality - weakMean) / gap : NaN });
  }
  // Thresholds ascend, so shares descend: reverse for an ascending curve (equal shares are equal sets).
  points.reverse();
  return points;
}

/** Area under PGR(strongShare), trapezoid rule over the curve's points. */
export function apgrOf(curve: readonly CurvePoint[]): number {
  let area = 0;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1];
    const b = curve[i];
    area += ((b.strongShare - a.strongShare) * (a.pgr + b.pgr)) / 2;
  }
  return area;
}

/** Smallest strong-model share at which the piecewise-linear curve reaches PGR = target, or null. */
export function cptOf(curve: readonly CurvePoint[], target: number): number | null {
  for (let i = 0; i < curve.length; i++) {
    const b = curve[i];
    if (Number.isNaN(b.pgr)) return null;
    if (b.pgr >= target) {
      if (i === 0) return b.strongShare;
      const a = curve[i - 1];
      if (b.pgr === a.pgr) return b.strongShare;
      return a.strongShare + ((target - a.pgr) * (b.strongShare - a.strongShare)) / (b.pgr - a.pgr);
    }
  }
  return null;
}

/** APGR, CPT(50%), CPT(80%) and the curve of one router on one benchmark. */
export function evaluateRouting(scores: ArrayLike<number>, strong: ArrayLike<number>, weak: ArrayLike<number>, bins = 10): RoutingMetrics {
  const curve = costQualityCurve(scores, strong, weak, bins);
  return {
    n: scores.length,
    strongMean: mean(strong),
    weakMean: mean(weak),
    curve,
    apgr: apgrOf(curve),
    cpt50: cptOf(curve, 0.5),
    cpt80: cptOf(curve, 0.8),
  };
}
