// Evaluates the complexity classifier as a strong/weak router on the routing data (RouteLLM's GPT-4 vs
// Mixtral outcomes): APGR, CPT(50%) and CPT(80%) per benchmark, against the prompt-length baseline and
// the published RouteLLM numbers.
//
//   npm run eval:routing [-- --split dev|train] [--json] [--data <dir|file.jsonl>] [--model <model.json>]
//
// Scores come from ComplexityClassifier.score, the code path `model: "auto"` uses.
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ComplexityClassifier } from '../src/routing/complexity/classifier.ts';
import { BENCHMARKS, BENCHMARK_LABELS, cleanRows, loadRoutingData, resolveDataFile, type RoutingRow } from '../src/routing/complexity/data.ts';
import { evaluateRouting, type RoutingMetrics } from '../src/routing/complexity/metrics.ts';

/**
 * Best router per benchmark in the RouteLLM paper (Ong et al., arXiv:2406.18665), as recorded in
 * ../shared/data/routing/README.md. The README records APGR and CPT(50%) only; CPT(80%) is not quoted.
 * They were measured on all non-contaminated rows, not on our dev split.
 */
export const ROUTELLM_PUBLISHED: Record<string, { apgr: number; cpt50: number; cpt80: number | null }> = {
  mt_bench: { apgr: 0.802, cpt50: 0.134, cpt80: null },
  mmlu: { apgr: 0.603, cpt50: 0.354, cpt80: null },
  gsm8k: { apgr: 0.622, cpt50: 0.336, cpt80: null },
};
export const ROUTELLM_SOURCE =
  'RouteLLM paper (Ong et al., arXiv:2406.18665), best router per benchmark, as recorded in the data README; measured on all non-contaminated rows, not this split; the README does not record CPT(80%)';

export interface RouterResult {
  apgr: number;
  cpt50: number | null;
  cpt80: number | null;
}

export interface BenchmarkReport {
  benchmark: string;
  n: number;
  strongMean: number;
  weakMean: number;
  classifier: RouterResult & { curve: RoutingMetrics['curve'] };
  length: RouterResult;
  routellm: RouterResult | null;
}

export interface EvalReport {
  split: string;
  dataFile: string;
  dataSha256: string;
  model: { trainedAt: string; split: string; cv: Record<string, number | string> };
  benchmarks: BenchmarkReport[];
  routellmSource: string;
  notes: string[];
}

function summary(m: RoutingMetrics): RouterResult {
  return { apgr: m.apgr, cpt50: m.cpt50, cpt80: m.cpt80 };
}

/** Scores every clean row of the split with the classifier and the length baseline, per benchmark. */
export function evaluateSplit(rows: readonly RoutingRow[], split: string, classifier: ComplexityClassifier): BenchmarkReport[] {
  const clean = cleanRows(rows, split);
  const present = [...new Set(clean.map((r) => r.benchmark))];
  const order = [...BENCHMARKS.filter((b) => present.includes(b)), ...present.filter((b) => !(BENCHMARKS as readonly string[]).includes(b)).sort()];
  return order.map((benchmark) => {
    const sel = clean.filter((r) => r.benchmark === benchmark);
    const strong = sel.map((r) => r.strong_score);
    const weak = sel.map((r) => r.weak_score);
    const ours = evaluateRouting(
      sel.map((r) => classifier.score({ prompt: r.prompt })),
      strong,
      weak,
    );
    const length = evaluateRouting(
      sel.map((r) => r.prompt.length),
      strong,
      weak,
    );
    const published = ROUTELLM_PUBLISHED[benchmark];
    return {
      benchmark,
      n: sel.length,
      strongMean: ours.strongMean,
      weakMean: ours.weakMean,
      classifier: { ...summary(ours), curve: ours.curve },
      length: summary(length),
      routellm: published ? { ...published } : null,
    };
  });
}

const pct = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(1)}%`);
const num = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');

export function markdownReport(report: EvalReport): string {
  const lines: string[] = [];
  lines.push(`Routing evaluation on the \`${report.split}\` split (contaminated rows excluded) of ${report.dataFile}`);
  lines.push('');
  lines.push('| benchmark | prompts | router | APGR | CPT(50%) | CPT(80%) |');
  lines.push('|---|---:|---|---:|---:|---:|');
  for (const b of report.benchmarks) {
    const label = BENCHMARK_LABELS[b.benchmark] ?? b.benchmark;
    lines.push(`| ${label} | ${b.n} | complexity classifier | ${num(b.classifier.apgr)} | ${pct(b.classifier.cpt50)} | ${pct(b.classifier.cpt80)} |`);
    lines.push(`| ${label} | ${b.n} | prompt length | ${num(b.length.apgr)} | ${pct(b.length.cpt50)} | ${pct(b.length.cpt80)} |`);
    if (b.routellm) lines.push(`| ${label} | all¹ | RouteLLM best (published)¹ | ${num(b.routellm.apgr)} | ${pct(b.routellm.cpt50)} | ${pct(b.routellm.cpt80)} |`);
  }
  lines.push('');
  lines.push(`Random routing: APGR 0.5, CPT(x) ≈ x. ¹ ${report.routellmSource}.`);
  const small = report.benchmarks.filter((b) => b.n < 30);
  if (small.length > 0) {
    lines.push(`Few prompts (${small.map((b) => `${BENCHMARK_LABELS[b.benchmark] ?? b.benchmark}: ${b.n}`).join(', ')}): those numbers move in large steps; see the cross-validated numbers below.`);
  }
  for (const note of report.notes) lines.push(note);
  const cv = report.model.cv;
  const cvBench = Object.keys(cv).filter((k) => k.startsWith('apgr_'));
  if (cvBench.length > 0) {
    lines.push('');
    lines.push(
      `Model trained ${report.model.trainedAt} on \`${report.model.split}\`; ${cv.folds}-fold cross-validated APGR on it (unseen folds): ` +
        cvBench.map((k) => `${BENCHMARK_LABELS[k.slice(5)] ?? k.slice(5)} ${Number(cv[k]).toFixed(3)} (length ${Number(cv[`length_baseline_${k}`]).toFixed(3)})`).join(', ') +
        '.',
    );
    if (cv.fold_assignments !== undefined) {
      lines.push(
        `Over ${cv.fold_assignments} fold assignments (mean, min–max): ` +
          cvBench.map((k) => `${BENCHMARK_LABELS[k.slice(5)] ?? k.slice(5)} ${Number(cv[`repeated_mean_${k}`]).toFixed(3)} (${Number(cv[`repeated_min_${k}`]).toFixed(3)}–${Number(cv[`repeated_max_${k}`]).toFixed(3)})`).join(', ') +
          '.',
      );
    }
    if (cv[`learned_only_${cvBench[0]}`] !== undefined) {
      lines.push(`Learned score alone, without the open-ended length prior: ${cvBench.map((k) => `${BENCHMARK_LABELS[k.slice(5)] ?? k.slice(5)} ${Number(cv[`learned_only_${k}`]).toFixed(3)}`).join(', ')}.`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function parseArgs(argv: string[]): { split: string; json: boolean; data?: string; model?: string } {
  const out: { split: string; json: boolean; data?: string; model?: string } = { split: 'dev', json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--split' || a === '--data' || a === '--model') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      if (a === '--split') out.split = v;
      else if (a === '--data') out.data = v;
      else out.model = v;
    } else throw new Error(`unknown argument ${a} (usage: eval-routing [--split train|dev] [--json] [--data <dir|file>] [--model <model.json>])`);
  }
  if (out.split !== 'train' && out.split !== 'dev') throw new Error(`--split must be train or dev (the holdout split is not distributed)`);
  return out;
}

export function runEval(argv: string[]): string {
  const args = parseArgs(argv);
  const file = resolveDataFile(args.data);
  const data = loadRoutingData(file);
  const classifier = args.model ? new ComplexityClassifier(ComplexityClassifier.load(resolve(args.model))) : ComplexityClassifier.default();
  const prov = classifier.model.provenance;
  const report: EvalReport = {
    split: args.split,
    dataFile: relative(process.cwd(), file),
    dataSha256: data.sha256,
    model: { trainedAt: prov.trainedAt, split: prov.split, cv: prov.cv },
    benchmarks: evaluateSplit(data.rows, args.split, classifier),
    routellmSource: ROUTELLM_SOURCE,
    notes: [],
  };
  if (args.split === prov.split) {
    report.notes.push(`The model was trained on the ${prov.split} split: these classifier numbers are in-sample (optimistic).`);
  }
  return args.json ? `${JSON.stringify(report, null, 2)}\n` : markdownReport(report);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.stdout.write(runEval(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`eval-routing: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
