// Loading the per-prompt routing evaluation data (see ../shared/data/routing/README.md): one JSON object
// per line with the prompt, the strong and weak model's scores, the split and a contamination flag.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RoutingRow {
  id: string;
  benchmark: string;
  subset: string;
  prompt: string;
  strong_score: number;
  weak_score: number;
  contaminated: boolean;
  split: string;
  prompt_turn2?: string;
}

export interface RoutingData {
  path: string;
  sha256: string;
  rows: RoutingRow[];
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DEFAULT_DATA_DIR = resolve(REPO_ROOT, '../shared/data/routing');
export const DEFAULT_DATA_FILE_NAME = 'routellm_gpt4_vs_mixtral.jsonl';
/** Benchmarks in report order. */
export const BENCHMARKS = ['mt_bench', 'mmlu', 'gsm8k'] as const;
export const BENCHMARK_LABELS: Record<string, string> = { mt_bench: 'MT-Bench', mmlu: 'MMLU', gsm8k: 'GSM8K' };

/** `--data` may name the JSONL file or the directory holding it. */
export function resolveDataFile(data?: string): string {
  if (!data) return resolve(DEFAULT_DATA_DIR, DEFAULT_DATA_FILE_NAME);
  return data.endsWith('.jsonl') ? resolve(data) : resolve(data, DEFAULT_DATA_FILE_NAME);
}

/** Parses the JSONL text; throws with the line number on a malformed row. */
export function parseRoutingJsonl(text: string): RoutingRow[] {
  const rows: RoutingRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new Error(`line ${i + 1}: ${(err as Error).message}`);
    }
    const r = raw as Partial<RoutingRow> | null;
    if (
      !r ||
      typeof r.id !== 'string' ||
      typeof r.benchmark !== 'string' ||
      typeof r.prompt !== 'string' ||
      typeof r.strong_score !== 'number' ||
      typeof r.weak_score !== 'number' ||
      typeof r.split !== 'string'
    ) {
      throw new Error(`line ${i + 1}: expected id, benchmark, prompt, strong_score, weak_score and split`);
    }
    rows.push({
      id: r.id,
      benchmark: r.benchmark,
      subset: typeof r.subset === 'string' ? r.subset : '',
      prompt: r.prompt,
      strong_score: r.strong_score,
      weak_score: r.weak_score,
      contaminated: r.contaminated === true,
      split: r.split,
      ...(typeof r.prompt_turn2 === 'string' ? { prompt_turn2: r.prompt_turn2 } : {}),
    });
  }
  return rows;
}

export function loadRoutingData(file: string): RoutingData {
  const buf = readFileSync(file);
  return { path: file, sha256: createHash('sha256').update(buf).digest('hex'), rows: parseRoutingJsonl(buf.toString('utf8')) };
}

/** The rows of one split without the contaminated ones (the paper's numbers exclude them). */
export function cleanRows(rows: readonly RoutingRow[], split: string): RoutingRow[] {
  return rows.filter((r) => r.split === split && !r.contaminated);
}
