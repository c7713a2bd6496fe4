import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ComplexityClassifier } from '../src/routing/complexity/classifier.ts';
import { resolveDataFile, type RoutingRow } from '../src/routing/complexity/data.ts';
import { ROUTELLM_PUBLISHED, evaluateSplit, markdownReport, runEval, type EvalReport } from './eval-routing.ts';

function row(id: string, benchmark: string, prompt: string, strong: number, weak: number, extra: Partial<RoutingRow> = {}): RoutingRow {
  return { id, benchmark, subset: 'x', prompt, strong_score: strong, weak_score: weak, contaminated: false, split: 'dev', ...extra };
}

describe('eval-routing', () => {
  const classifier = ComplexityClassifier.default();

  it('evaluates each benchmark of the split, skipping contaminated and other-split rows', () => {
    const rows = [
      row('g1', 'gsm8k', 'short one', 1, 1),
      row('g2', 'gsm8k', 'a much longer question about apples and oranges and how many remain', 1, 0),
      row('g3', 'gsm8k', 'contaminated', 1, 0, { contaminated: true }),
      row('g4', 'gsm8k', 'train row', 1, 0, { split: 'train' }),
      row('m1', 'mt_bench', 'write a poem', 9, 9),
      row('m2', 'mt_bench', 'extract the entities from this long text ...', 10, 4),
    ];
    const reports = evaluateSplit(rows, 'dev', classifier);
    expect(reports.map((r) => [r.benchmark, r.n])).toEqual([
      ['mt_bench', 2],
      ['gsm8k', 2],
    ]);
    const g = reports[1];
    expect(g.strongMean).toBe(1);
    expect(g.weakMean).toBe(0.5);
    // length routes the longer (strong-only) prompt first: the perfect curve
    expect(g.length.apgr).toBeCloseTo(0.75, 12);
    expect(g.routellm).toEqual(ROUTELLM_PUBLISHED.gsm8k);
    expect(g.classifier.curve).toHaveLength(11);
  });

  it('renders a markdown table with the three routers and the sources', () => {
    const report: EvalReport = {
      split: 'dev',
      dataFile: 'data.jsonl',
      dataSha256: 'abc',
      model: { trainedAt: '2026-01-01', split: 'train', cv: { folds: 5, apgr_mmlu: 0.66, length_baseline_apgr_mmlu: 0.57 } },
      benchmarks: evaluateSplit([row('a', 'mmlu', 'q1', 1, 0), row('b', 'mmlu', 'q22', 1, 1)], 'dev', classifier),
      routellmSource: 'the paper',
      notes: [],
    };
    const md = markdownReport(report);
    expect(md).toContain('| benchmark | prompts | router | APGR | CPT(50%) | CPT(80%) |');
    expect(md).toContain('| MMLU | 2 | complexity classifier |');
    expect(md).toContain('| MMLU | 2 | prompt length |');
    expect(md).toContain('| MMLU | all¹ | RouteLLM best (published)¹ | 0.603 | 35.4% | — |');
    expect(md).toContain('the paper');
    expect(md).toContain('MMLU 0.660 (length 0.570)');
    expect(md).not.toContain('fold assignments');
    report.model.cv = { ...report.model.cv, learned_only_apgr_mmlu: 0.65, fold_assignments: 3, repeated_mean_apgr_mmlu: 0.655, repeated_min_apgr_mmlu: 0.64, repeated_max_apgr_mmlu: 0.66 };
    const repeated = markdownReport(report);
    expect(repeated).toContain('Over 3 fold assignments (mean, min–max): MMLU 0.655 (0.640–0.660).');
    expect(repeated).toContain('without the open-ended length prior: MMLU 0.650.');
  });

  it('rejects unknown arguments and the holdout split', () => {
    expect(() => runEval(['--split', 'holdout'])).toThrow(/train or dev/);
    expect(() => runEval(['--bogus'])).toThrow(/unknown argument/);
  });

  it.skipIf(!existsSync(resolveDataFile()))('runs on the routing data and prints JSON', () => {
    const report = JSON.parse(runEval(['--split', 'dev', '--json'])) as EvalReport;
    expect(report.benchmarks.map((b) => b.benchmark)).toEqual(['mt_bench', 'mmlu', 'gsm8k']);
    expect(report.benchmarks.find((b) => b.benchmark === 'mmlu')?.n).toBe(1417);
    for (const b of report.benchmarks) expect(Number.isFinite(b.classifier.apgr)).toBe(true);
  });
});
