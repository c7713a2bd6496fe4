// Writes src/routing/complexity/calibration.json: the classifier's score quantiles over the training
// prompts, so that auto-routing's quality_target reads as "about this share of traffic goes premium".
// Usage: node bin/run-ts.js scripts/calibrate-classifier.ts [--data DIR]
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ComplexityClassifier } from '../src/routing/complexity/classifier.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const QUANTILES = 100;

interface Row {
  prompt: string;
  split: string;
  contaminated: boolean;
}

export function calibrate(dataDir: string): Record<string, unknown> {
  const file = join(dataDir, 'routellm_gpt4_vs_mixtral.jsonl');
  const raw = readFileSync(file, 'utf8');
  const rows = raw
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row)
    .filter((r) => r.split === 'train' && !r.contaminated);
  const classifier = ComplexityClassifier.default();
  const scores = rows.map((r) => classifier.score({ prompt: r.prompt })).sort((a, b) => a - b);
  const quantiles: number[] = [];
  for (let i = 0; i <= QUANTILES; i++) quantiles.push(Number(scores[Math.min(scores.length - 1, Math.round((i / QUANTILES) * (scores.length - 1)))].toFixed(6)));
  const modelFile = join(ROOT, 'src/routing/complexity/model.json');
  return {
    provenance: {
      data: relative(ROOT, file),
      data_sha256: createHash('sha256').update(raw).digest('hex'),
      split: 'train (contaminated rows excluded)',
      rows: rows.length,
      model_sha256: createHash('sha256').update(readFileSync(modelFile)).digest('hex'),
      generator: 'scripts/calibrate-classifier.ts',
      note: 'quantiles of the classifier score over the training prompts (mostly MMLU, as the data is)',
    },
    quantiles,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const at = process.argv.indexOf('--data');
  const dataDir = at > 0 ? resolve(process.argv[at + 1]) : resolve(ROOT, '../shared/data/routing');
  const out = join(ROOT, 'src/routing/complexity/calibration.json');
  writeFileSync(out, `${JSON.stringify(calibrate(dataDir), null, 1)}\n`);
  process.stdout.write(`wrote ${relative(ROOT, out)}\n`);
}
