import { describe, expect, it } from 'vitest';
import { decodeEntry, fitSubjectModel, SubjectModel } from './subjects.ts';

// Buckets: 0-2 are "chemistry" words, 3-5 "law" words, 6 appears in every prompt, 7 only once (dropped by minDocs 2).
const docs = [
  [0, 1, 6],
  [0, 2, 6],
  [1, 2, 6, 7],
  [3, 4, 6],
  [3, 5, 6],
  [4, 5, 6],
];
const labels = [0, 0, 0, 1, 1, 1];
const names = ['chemistry', 'law'];
const gap = [0.3, -0.1];

describe('subject model (naive Bayes over word buckets)', () => {
  const json = fitSubjectModel(docs, labels, names, gap, 8, { alpha: 1, temperature: 1, minDocs: 2 });

  it('stores only the (bucket, subject) pairs seen in training, for buckets kept by minDocs', () => {
    // kept buckets 0..6 (7 is in one prompt only), as ascending gaps
    expect(json.delta).toEqual([0, 1, 1, 1, 1, 1, 1]);
    expect(json.entries).toEqual([1, 1, 1, 1, 1, 1, 2]);
    const decoded = json.entry.map((e) => decodeEntry(e, 2));
    expect(decoded.map((d) => d.subject)).toEqual([0, 0, 0, 1, 1, 1, 0, 1]);
    expect(decoded.map((d) => d.count)).toEqual([2, 2, 2, 2, 2, 2, 3, 3]);
    expect(json.total).toEqual([9, 9]);
    expect(json.vocabulary).toBe(8);
  });

  it('matches the dense naive Bayes posterior computed by hand', () => {
    const model = new SubjectModel(json, 8);
    const x = [0, 1, 4, 6, 7];
    // dense multinomial NB with add-1 smoothing over V = 8 (7 kept buckets + the unseen one)
    const count = [
      [2, 2, 2, 0, 0, 0, 3],
      [0, 0, 0, 2, 2, 2, 3],
    ];
    const total = [9, 9];
    const logPrior = [Math.log(4 / 8), Math.log(4 / 8)];
    const score = [0, 1].map((s) => logPrior[s] + x.reduce((acc, b) => acc + Math.log(((b < 7 ? count[s][b] : 0) + 1) / (total[s] + 8)), 0));
    const p0 = 1 / (1 + Math.exp(score[1] - score[0]));
    const posterior = model.posterior(x, x.length, 8);
    expect(posterior[0]).toBeCloseTo(p0, 12);
    expect(posterior[1]).toBeCloseTo(1 - p0, 12);
    expect(p0).toBeGreaterThan(0.6);
    expect(model.expectedGap(x, x.length, 8)).toBeCloseTo(p0 * 0.3 + (1 - p0) * -0.1, 12);
  });

  it('recognises the subject of unambiguous prompts', () => {
    const model = new SubjectModel(json, 8);
    expect(model.posterior([0, 1, 2], 3, 8)[0]).toBeGreaterThan(0.9);
    expect(model.posterior([3, 4, 5], 3, 8)[1]).toBeGreaterThan(0.9);
    expect(model.expectedGap([0, 1, 2], 3, 8)).toBeGreaterThan(0.25);
    expect(model.expectedGap([3, 4, 5], 3, 8)).toBeLessThan(-0.05);
  });

  it('skips ids at or above the limit (character buckets) and flattens with a higher temperature', () => {
    const model = new SubjectModel(json, 8);
    expect(model.expectedGap([0, 1, 2], 3, 8)).toBe(model.expectedGap([0, 1, 2, 100, 200], 5, 8));
    const hot = new SubjectModel({ ...json, temperature: 100 }, 8);
    const p = hot.posterior([0, 1, 2], 3, 8);
    expect(p[0]).toBeLessThan(model.posterior([0, 1, 2], 3, 8)[0]);
    expect(p[0]).toBeGreaterThan(0.5);
  });

  it('rejects malformed tables', () => {
    expect(() => new SubjectModel({ ...json, delta: [0, 0, 1, 1, 1, 1, 1] }, 8)).toThrow(/ascending/);
    expect(() => new SubjectModel({ ...json, entry: json.entry.map(() => -1) }, 8)).toThrow(/entry/);
    expect(() => new SubjectModel({ ...json, entry: json.entry.slice(1) }, 8)).toThrow(/entry count/);
    expect(() => new SubjectModel(json, 4)).toThrow(/out of range/);
  });
});
