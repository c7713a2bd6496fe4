// The complexity classifier as the auto router uses it: a score and where that score falls among
// the training prompts' scores (the calibration table in model.json), so that the cost–quality knob
// means "roughly this share of traffic goes to the premium tier" whatever the score's scale.
import { readFileSync } from 'node:fs';
import type { ChatRequest } from '../../core/canonical.ts';
import type { ComplexityScorer } from '../auto.ts';
import { ComplexityClassifier } from './classifier.ts';

/** Sorted scores at evenly spaced quantiles (0, 1/n, …, 1) of the training prompts. */
export type Calibration = readonly number[];

/** Fraction of calibration scores at or below `score`, interpolated; the score itself when uncalibrated. */
export function percentileOf(score: number, calibration: Calibration | undefined): number {
  if (!calibration || calibration.length < 2) return score;
  const n = calibration.length - 1;
  if (score <= calibration[0]) return 0;
  if (score >= calibration[n]) return 1;
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (calibration[mid] <= score) lo = mid;
    else hi = mid;
  }
  const span = calibration[hi] - calibration[lo];
  const within = span > 0 ? (score - calibration[lo]) / span : 0;
  return (lo + within) / n;
}

/** The bundled calibration (scripts/calibrate-classifier.ts), or none if the file is absent. */
export function bundledCalibration(): Calibration | undefined {
  try {
    const file = JSON.parse(readFileSync(new URL('./calibration.json', import.meta.url), 'utf8')) as { quantiles?: number[] };
    return file.quantiles;
  } catch {
    return undefined;
  }
}

export function classifierScorer(classifier: ComplexityClassifier = ComplexityClassifier.default(), calibration: Calibration | undefined = bundledCalibration()): ComplexityScorer {
  return {
    scoreRequest: (req: ChatRequest) => classifier.scoreRequest(req),
    percentile: (score: number) => percentileOf(score, calibration),
  };
}
