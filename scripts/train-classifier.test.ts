import { describe, expect, it } from 'vitest';
import { ComplexityClassifier } from '../src/routing/complexity/classifier.ts';
import type { RoutingRow } from '../src/routing/complexity/data.ts';
import { DEFAULT_FEATURE_CONFIG, FeatureExtractor } from '../src/routing/complexity/features.ts';
import { SubjectModel } from '../src/routing/complexity/subjects.ts';
import { evaluateRouting } from '../src/routing/complexity/metrics.ts';
import { gridPoints, lbfgs, OPEN_LENGTH_PRIOR, serializeModel, trainClassifier, type Grid } from './train-classifier.ts';

/** A small synthetic dataset: the strong model is needed on the "hard" topics and on long word problems. */
function syntheticRows(): RoutingRow[] {
  const rows: RoutingRow[] = [];
  const easy = ['apple', 'river', 'garden', 'music', 'holiday'];
  const hard = ['tensor', 'manifold', 'eigenvalue', 'homology', 'lagrangian'];
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let i = 0; i < 120; i++) {
    const isHard = i % 2 === 0;
    const topic = (isHard ? hard : easy)[i % 5];
    const noisy = rand() < 0.1;
    const needStrong = isHard !== noisy;
    rows.push({
      id: `mmlu/${isHard ? 'hard' : 'easy'}/${i}`,
      benchmark: 'mmlu',
      subset: isHard ? 'hard' : 'easy',
      prompt: `Question ${i} about the ${topic}: which statement about the ${topic} holds?\nA. one\nB. two\nC. three\nD. four\nAnswer:`,
      strong_score: 1,
      weak_score: needStrong ? 0 : 1,
      contaminated: false,
      split: i % 10 === 0 || i % 10 === 5 ? 'dev' : 'train',
    });
  }
  for (let i = 0; i < 60; i++) {
    const steps = 1 + (i % 6);
    const prompt = `Tom has ${i + 3} apples. ${'He buys twice as many more, then gives half of the remaining to a friend. '.repeat(steps)}How many apples are left?`;
    rows.push({
      id: `gsm8k/${i}`,
      benchmark: 'gsm8k',
      subset: 'test',
      prompt,
      strong_score: 1,
      weak_score: steps >= 4 ? 0 : 1,
      contaminated: i === 5,
      split: 'train',
    });
  }
  return rows;
}

const GRID: Grid = { lambda: [1, 10], hashScale: [1], openHashScale: [1], alpha: [0.5], balance: [0], sharedPenalty: [1], openPenalty: [1], openFeatures: ['all'] };
const options = {
  features: { ...DEFAULT_FEATURE_CONFIG, hashing: { ...DEFAULT_FEATURE_CONFIG.hashing, wordBits: 12, charBits: 10 } },
  grid: GRID,
  folds: 3,
  maxIterations: 60,
  minBucketDocs: 1,
  trainedAt: '2026-01-02',
  dataFile: 'synthetic.jsonl',
  dataSha256: '0'.repeat(64),
};

describe('train-classifier', () => {
  it('is deterministic: two runs give byte-identical model files', () => {
    const rows = syntheticRows();
    const a = serializeModel(trainClassifier(rows, options).model);
    const b = serializeModel(trainClassifier(rows, options).model);
    expect(a).toBe(b);
    expect(a.endsWith('\n')).toBe(true);
    expect(JSON.parse(a)).toEqual(trainClassifier(rows, options).model);
  });

  it('trains on the clean train rows only, records provenance, and learns the signal', () => {
    const rows = syntheticRows();
    const result = trainClassifier(rows, options);
    const p = result.model.provenance;
    expect(p.split).toBe('train');
    expect(p.rows).toEqual({ mmlu: 96, gsm8k: 59 });
    expect(p.excluded).toMatchObject({ contaminated: 1, contaminated_gsm8k: 1 });
    expect(p.trainedAt).toBe('2026-01-02');
    expect(p.hyperParameters.lambda).toBe(result.best.params.lambda);
    expect(result.cv).toHaveLength(2);
    expect(p.cv.folds).toBe(3);
    const c = new ComplexityClassifier(result.model);
    const dev = rows.filter((r) => r.split === 'dev');
    const m = evaluateRouting(
      dev.map((r) => c.score({ prompt: r.prompt })),
      dev.map((r) => r.strong_score),
      dev.map((r) => r.weak_score),
    );
    expect(m.apgr).toBeGreaterThan(0.6);
    const hard = c.score({ prompt: 'Question about the eigenvalue: which statement holds?\nA. one\nB. two\nC. three\nD. four\nAnswer:' });
    const easy = c.score({ prompt: 'Question about the garden: which statement holds?\nA. one\nB. two\nC. three\nD. four\nAnswer:' });
    expect(hard).toBeGreaterThan(easy);
  });

  it('gives open prompts their own word n-gram block, instead of or on top of the shared one', () => {
    const rows = syntheticRows();
    const wordDim = 1 << options.features.hashing.wordBits;
    for (const [openHash, mode] of [
      ['words', 'replace'],
      ['shared+words', 'add'],
    ] as const) {
      const result = trainClassifier(rows, { ...options, grid: { ...GRID, lambda: [1], openHash: [openHash], openHashLambda: [0.5] } });
      const own = result.model.weights.openHashed;
      expect(own?.mode).toBe(mode);
      expect(own?.q.length).toBeGreaterThan(0);
      // word n-grams only: every index of the own block is in the word block
      let index = 0;
      for (const d of own?.delta ?? []) index += d;
      expect(index).toBeLessThan(wordDim);
      expect(result.model.provenance.hyperParameters.openHash).toBe(openHash);
      const c = new ComplexityClassifier(result.model);
      const problem = (steps: number) => `Tom has 7 apples. ${'He buys twice as many more, then gives half of the remaining to a friend. '.repeat(steps)}How many apples are left?`;
      expect(c.score({ prompt: problem(5) })).toBeGreaterThan(c.score({ prompt: problem(1) }));
    }
  });

  it('writes the open-ended length prior, cross-validates with it, and repeats the CV over fold assignments', () => {
    const rows = syntheticRows();
    const result = trainClassifier(rows, { ...options, grid: { ...GRID, lambda: [1] }, cvRepeats: 1 });
    expect(result.model.weights.openLengthPrior).toBe(OPEN_LENGTH_PRIOR);
    expect(result.model.provenance.hyperParameters.openLengthPrior).toBe(OPEN_LENGTH_PRIOR);
    const cv = result.model.provenance.cv;
    expect(cv.fold_assignments).toBe(2);
    for (const b of ['mmlu', 'gsm8k']) {
      expect(typeof cv[`learned_only_apgr_${b}`]).toBe('number');
      expect(Number(cv[`repeated_min_apgr_${b}`])).toBeLessThanOrEqual(Number(cv[`apgr_${b}`]));
      expect(Number(cv[`repeated_max_apgr_${b}`])).toBeGreaterThanOrEqual(Number(cv[`apgr_${b}`]));
    }
    // the synthetic maths problems are one paragraph with numbers: the prior leaves them alone
    expect(cv.apgr_gsm8k).toBe(cv.learned_only_apgr_gsm8k);
    const none = trainClassifier(rows, { ...options, grid: { ...GRID, lambda: [1] }, openLengthPrior: 0 });
    expect(none.model.weights.openLengthPrior).toBeUndefined();
  });

  it('writes the strong-need floor by default and leaves it out when switched off', () => {
    const rows = syntheticRows();
    const on = trainClassifier(rows, { ...options, grid: { ...GRID, lambda: [1] } });
    expect(on.model.weights.strongNeedFloor).toBe(true);
    expect(on.model.provenance.hyperParameters.strongNeedFloor).toBe(true);
    const off = trainClassifier(rows, { ...options, grid: { ...GRID, lambda: [1] }, strongNeedFloor: false });
    expect(off.model.weights.strongNeedFloor).toBeUndefined();
    expect(off.model.provenance.hyperParameters.strongNeedFloor).toBe(false);
    // the floor changes scores only, never the fitted weights
    expect(off.model.weights.open).toEqual(on.model.weights.open);
    const prompt = 'Prove there are infinitely many primes.';
    expect(new ComplexityClassifier(on.model).score({ prompt })).toBeGreaterThanOrEqual(new ComplexityClassifier(off.model).score({ prompt }));
  });

  it('stacks the subject model: fitted on out-of-fold posteriors, written with its weight, used by the scorer', () => {
    const rows = syntheticRows();
    const result = trainClassifier(rows, { ...options, grid: { ...GRID, lambda: [1], subjectAlpha: [0.1], subjectTemperature: [2] }, cvRepeats: 1 });
    const sj = result.model.weights.subjects;
    expect(sj).toBeDefined();
    if (!sj) return;
    expect(sj.names).toEqual(['mmlu/easy', 'mmlu/hard']);
    // the hard subject's shrunk training gap is above the easy one's
    expect(sj.gap[1]).toBeGreaterThan(sj.gap[0]);
    expect(sj.weight).toBeGreaterThan(0);
    expect(sj.std).toBeGreaterThan(0);
    expect(result.model.provenance.hyperParameters).toMatchObject({ subjectAlpha: 0.1, subjectTemperature: 2 });
    // stored buckets are word buckets (hashed indices below the word dimension)
    let index = 0;
    for (const d of sj.delta) index += d;
    expect(index).toBeLessThan(1 << options.features.hashing.wordBits);
    const fx = new FeatureExtractor(options.features);
    const subjects = new SubjectModel(sj, 1 << options.features.hashing.wordBits);
    const gapOf = (prompt: string): number => {
      const v = fx.extract({ prompt });
      return subjects.expectedGap(v.hashIndex, v.hashCount, 1 << options.features.hashing.wordBits);
    };
    const mcq = (topic: string) => `Question about the ${topic}: which statement about the ${topic} holds?\nA. one\nB. two\nC. three\nD. four\nAnswer:`;
    expect(gapOf(mcq('eigenvalue'))).toBeGreaterThan(gapOf(mcq('garden')));
    const c = new ComplexityClassifier(result.model);
    expect(c.score({ prompt: mcq('eigenvalue') })).toBeGreaterThan(c.score({ prompt: mcq('garden') }));
    // open prompts are untouched by the subject model
    const without = trainClassifier(rows, { ...options, grid: { ...GRID, lambda: [1] } });
    expect(without.model.weights.subjects).toBeUndefined();
  });

  it('expands the grid in a fixed order', () => {
    const points = gridPoints({ ...GRID, lambda: [1, 2], alpha: [0, 1] });
    expect(points.map((p) => [p.alpha, p.lambda])).toEqual([
      [0, 1],
      [0, 2],
      [1, 1],
      [1, 2],
    ]);
  });

  it('L-BFGS finds the minimum of a convex quadratic', () => {
    // f(x) = sum_i (i + 1) (x_i - i)^2
    const f = (x: Float64Array, g: Float64Array) => {
      let v = 0;
      for (let i = 0; i < x.length; i++) {
        v += (i + 1) * (x[i] - i) ** 2;
        g[i] = 2 * (i + 1) * (x[i] - i);
      }
      return v;
    };
    const x = lbfgs(f, new Float64Array(5), 200);
    for (let i = 0; i < 5; i++) expect(x[i]).toBeCloseTo(i, 5);
  });
});
