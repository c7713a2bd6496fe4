// Generates src/catalog/catalog.json from the shared model-catalog snapshot (../shared/data/catalog).
// Usage: node bin/run-ts.js scripts/build-catalog.ts [--source DIR] [--out FILE] [--date YYYY-MM-DD]
// The output is deterministic: the same sources and date give byte-identical output. See docs/catalog.md.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  CATALOG_PROVIDERS,
  type Capability,
  type CatalogDrop,
  type CatalogFile,
  type CatalogFileModel,
  type CatalogMode,
  type CatalogProvenance,
  type CatalogSourceFile,
} from '../src/catalog/catalog.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_SOURCE_DIR = resolve(REPO_ROOT, '../shared/data/catalog');
export const DEFAULT_OUT_FILE = resolve(REPO_ROOT, 'src/catalog/catalog.json');
const GENERATOR = 'scripts/build-catalog.ts';

const MODELS_FILE = 'models.json';
const README_FILE = 'README.md';
const LITELLM_FILE = 'raw/litellm/model_prices_and_context_window.json';
const OPENROUTER_FILE = 'raw/openrouter/openrouter_api_v1_models_2026-08-01.json';

const QUALITY_DECIMALS = 4;
const FIT_DECIMALS = 6;

const SourceRow = z.object({
  id: z.string(),
  provider: z.enum(CATALOG_PROVIDERS),
  provider_model_id: z.string(),
  mode: z.string(),
  input_usd_per_mtok: z.number().nullable(),
  output_usd_per_mtok: z.number().nullable(),
  cached_input_usd_per_mtok: z.number().nullable(),
  context_window: z.number().int().nullable(),
  max_output_tokens: z.number().int().nullable(),
  supports: z.object({
    tools: z.boolean().optional(),
    vision: z.boolean().optional(),
    json: z.boolean().optional(),
    reasoning: z.boolean().optional(),
  }),
  quality_elo: z.number().nullable(),
  aa_intelligence_index: z.number().nullable(),
  source: z.string(),
});
type SourceRow = z.infer<typeof SourceRow>;

const LiteLlmFile = z.record(z.string(), z.unknown());
const OpenRouterFile = z.object({
  data: z.array(z.object({ id: z.string(), pricing: z.object({ input_cache_write: z.string().optional() }) })),
});

const DROP_REASONS = {
  responses: 'mode "responses": reachable only through the OpenAI Responses API, and we call /chat/completions',
  otherMode: 'mode other than chat/embedding',
  emptyName: 'empty model name (provider_model_id ends with "/")',
  noPrice: 'no input or output price',
} as const;
type DropKey = keyof typeof DROP_REASONS;

const ADJUSTMENTS = {
  maxOutIsCtx: 'max_out set to null where the source gives max_output_tokens == context_window (its "unknown")',
  zeroCacheWrite: 'cache_write 0 with a non-zero input price set to null (no separate cache-write charge)',
  cacheWriteLiteLlm: 'cache_write taken from LiteLLM cache_creation_input_token_cost',
  cacheWriteOpenRouter: 'cache_write taken from OpenRouter pricing.input_cache_write',
} as const;
type AdjustmentKey = keyof typeof ADJUSTMENTS;

const FIELD_DOCS: Record<string, string> = {
  id: '"<provider>/<model>", unique; models are sorted by it',
  provider: 'provider name as in the source catalog',
  model: 'provider_model_id: the id sent to the provider API',
  mode: 'chat | embedding',
  in: 'USD per 1M input tokens (base tier)',
  out: 'USD per 1M output tokens (0 for embeddings)',
  cached_in: 'USD per 1M cache-read input tokens, null = not priced separately (bill at "in")',
  cache_write: 'USD per 1M cache-write input tokens (5-minute TTL), null = not priced separately (bill at "in")',
  ctx: 'context window (max input tokens), null = unknown',
  max_out: 'max output tokens, null = unknown or bounded only by the context window',
  caps: 'declared capabilities among json, reasoning, tools, vision; absent = false',
  quality: '0..1 score, see provenance.quality.formula; null = no quality signal',
  elo: 'LMArena style-controlled text Elo, or null',
  aa: 'Artificial Analysis intelligence index (2026-08-01), or null',
  src: 'source row: "litellm:<key>" or "openrouter-api-2026-08-01:<id>"',
};

export interface GenerateOptions {
  sourceDir: string;
  /** YYYY-MM-DD written as provenance.generated_on. */
  generatedOn: string;
}

export interface BuildOptions {
  sourceDir?: string;
  outFile?: string;
  /** When omitted, an existing file's date is kept if nothing else changed, otherwise today's UTC date. */
  generatedOn?: string;
}

export interface BuildResult {
  outFile: string;
  written: boolean;
  catalog: CatalogFile;
}

interface LoadedSource {
  info: CatalogSourceFile;
  text: string;
}

function loadSource(sourceDir: string, file: string, usedFor: string): LoadedSource {
  const abs = resolve(sourceDir, file);
  const bytes = readFileSync(abs);
  // Paths are recorded relative to the shared folder, which holds the source dir at data/catalog.
  const path = relative(resolve(sourceDir, '../..'), abs).split(sep).join('/');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { info: { path, sha256, used_for: usedFor }, text: bytes.toString('utf8') };
}

function roundPrice(usdPerMtok: number): number {
  return Number(usdPerMtok.toPrecision(12));
}

function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

function readmeDate(readme: string, label: string): string {
  const match = new RegExp(`${label} (?:is|are) as of \\*\\*([^*]+)\\*\\*`).exec(readme);
  if (match?.[1] === undefined) throw new Error(`source README has no "${label} … as of **date**" line`);
  return match[1];
}

function sourceKey(source: string): { origin: 'litellm' | 'openrouter' | 'other'; key: string } {
  const base = source.split(' +')[0] ?? source;
  const colon = base.indexOf(':');
  const origin = base.slice(0, colon);
  const key = base.slice(colon + 1);
  if (origin === 'litellm') return { origin, key };
  if (origin.startsWith('openrouter')) return { origin: 'openrouter', key };
  return { origin: 'other', key };
}

function litellmCacheWrites(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, row] of Object.entries(LiteLlmFile.parse(JSON.parse(text)))) {
    if (typeof row !== 'object' || row === null) continue;
    const cost: unknown = (row as Record<string, unknown>)['cache_creation_input_token_cost'];
    if (typeof cost === 'number') out.set(key, cost * 1e6);
  }
  return out;
}

function openRouterCacheWrites(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of OpenRouterFile.parse(JSON.parse(text)).data) {
    const cost = row.pricing.input_cache_write;
    if (cost !== undefined && Number(cost) >= 0) out.set(row.id, Number(cost) * 1e6);
  }
  return out;
}

function dropReason(row: SourceRow): DropKey | undefined {
  if (row.mode === 'responses') return 'responses';
  if (row.mode !== 'chat' && row.mode !== 'embedding') return 'otherMode';
  if (row.provider_model_id === '' || row.provider_model_id.endsWith('/')) return 'emptyName';
  if (row.input_usd_per_mtok === null || row.output_usd_per_mtok === null) return 'noPrice';
  return undefined;
}

function capabilities(supports: SourceRow['supports']): Capability[] {
  const caps: Capability[] = [];
  if (supports.json === true) caps.push('json');
  if (supports.reasoning === true) caps.push('reasoning');
  if (supports.tools === true) caps.push('tools');
  if (supports.vision === true) caps.push('vision');
  return caps;
}

interface Fit {
  intercept: number;
  slope: number;
  r2: number;
  pairs: number;
}

/** Ordinary least squares elo ~ aa. Each distinct (aa, elo) pair counts once so re-hosted models don't dominate. */
function fitAaToElo(rows: readonly SourceRow[]): Fit {
  const seen = new Set<string>();
  const xs: number[] = [];
  const ys: number[] = [];
  for (const r of rows) {
    if (r.quality_elo === null || r.aa_intelligence_index === null) continue;
    const k = `${r.aa_intelligence_index}|${r.quality_elo}`;
    if (seen.has(k)) continue;
    seen.add(k);
    xs.push(r.aa_intelligence_index);
    ys.push(r.quality_elo);
  }
  const n = xs.length;
  if (n < 3) throw new Error(`too few models with both Elo and AA index to fit (${n})`);
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  return {
    intercept: roundTo(my - slope * mx, FIT_DECIMALS),
    slope: roundTo(slope, FIT_DECIMALS),
    r2: roundTo((sxy * sxy) / (sxx * syy), FIT_DECIMALS),
    pairs: n,
  };
}

function effectiveElo(row: SourceRow, fit: Fit): number | null {
  if (row.quality_elo !== null) return row.quality_elo;
  if (row.aa_intelligence_index !== null) return fit.intercept + fit.slope * row.aa_intelligence_index;
  return null;
}

const QUALITY_FORMULA =
  'quality = round((E - elo_min) / (elo_max - elo_min), 4), where E = elo (LMArena style-controlled text "full" ' +
  'rating) when present, else aa_to_elo_fit.intercept + aa_to_elo_fit.slope * aa (Artificial Analysis ' +
  'intelligence index); elo_min/elo_max are the min/max of E over all catalog models; null when neither exists. ' +
  'The fit is least squares of elo on aa over the distinct (aa, elo) pairs of catalog models that have both.';

function counter<K extends string>(keys: readonly K[]): Record<K, number> {
  const c = {} as Record<K, number>;
  for (const k of keys) c[k] = 0;
  return c;
}

function toDrops<K extends string>(labels: Record<K, string>, counts: Record<K, number>): CatalogDrop[] {
  return (Object.keys(labels) as K[]).map((k) => ({ reason: labels[k], count: counts[k] }));
}

/** Pure with respect to its inputs: reads the source files and returns the catalog, writes nothing. */
export function generateCatalog(opts: GenerateOptions): CatalogFile {
  const models = loadSource(opts.sourceDir, MODELS_FILE, 'model rows: prices, limits, capabilities, Elo, AA index');
  const readme = loadSource(opts.sourceDir, README_FILE, 'snapshot dates');
  const litellm = loadSource(opts.sourceDir, LITELLM_FILE, 'cache-write prices of LiteLLM-sourced rows');
  const openrouter = loadSource(opts.sourceDir, OPENROUTER_FILE, 'cache-write prices of OpenRouter-sourced rows');

  const rows = z.array(SourceRow).parse(JSON.parse(models.text));
  const llWrites = litellmCacheWrites(litellm.text);
  const orWrites = openRouterCacheWrites(openrouter.text);

  const drops = counter(Object.keys(DROP_REASONS) as DropKey[]);
  const adjust = counter(Object.keys(ADJUSTMENTS) as AdjustmentKey[]);
  const kept: SourceRow[] = [];
  for (const row of rows) {
    if (row.id !== `${row.provider}/${row.provider_model_id}`) throw new Error(`inconsistent id ${row.id}`);
    const reason = dropReason(row);
    if (reason === undefined) kept.push(row);
    else drops[reason]++;
  }

  const fit = fitAaToElo(kept);
  const elos = kept.map((r) => effectiveElo(r, fit)).filter((e): e is number => e !== null);
  const eloMin = Math.min(...elos);
  const eloMax = Math.max(...elos);
  const quality = { fromElo: 0, fromAa: 0, none: 0 };

  const out: CatalogFileModel[] = kept.map((row) => {
    const input = row.input_usd_per_mtok as number;
    const { origin, key } = sourceKey(row.source);
    let cacheWrite = (origin === 'litellm' ? llWrites : origin === 'openrouter' ? orWrites : undefined)?.get(key) ?? null;
    if (cacheWrite !== null) adjust[origin === 'litellm' ? 'cacheWriteLiteLlm' : 'cacheWriteOpenRouter']++;
    if (cacheWrite === 0 && input > 0) {
      cacheWrite = null;
      adjust.zeroCacheWrite++;
    }
    let maxOut = row.max_output_tokens;
    if (maxOut !== null && maxOut === row.context_window) {
      maxOut = null;
      adjust.maxOutIsCtx++;
    }
    const e = effectiveElo(row, fit);
    if (row.quality_elo !== null) quality.fromElo++;
    else if (e !== null) quality.fromAa++;
    else quality.none++;
    return {
      id: row.id,
      provider: row.provider,
      model: row.provider_model_id,
      mode: row.mode as CatalogMode,
      in: roundPrice(input),
      out: roundPrice(row.output_usd_per_mtok as number),
      cached_in: row.cached_input_usd_per_mtok === null ? null : roundPrice(row.cached_input_usd_per_mtok),
      cache_write: cacheWrite === null ? null : roundPrice(cacheWrite),
      ctx: row.context_window,
      max_out: maxOut,
      caps: capabilities(row.supports),
      quality: e === null ? null : roundTo((e - eloMin) / (eloMax - eloMin), QUALITY_DECIMALS),
      elo: row.quality_elo,
      aa: row.aa_intelligence_index,
      src: row.source,
    };
  });
  out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const provenance: CatalogProvenance = {
    generator: GENERATOR,
    generated_on: opts.generatedOn,
    source_dir: relative(REPO_ROOT, opts.sourceDir).split(sep).join('/'),
    sources: [models.info, readme.info, litellm.info, openrouter.info],
    snapshot_dates: { prices: readmeDate(readme.text, 'Prices'), elo: readmeDate(readme.text, 'Elo') },
    rows: {
      source: rows.length,
      kept: out.length,
      chat: out.filter((m) => m.mode === 'chat').length,
      embedding: out.filter((m) => m.mode === 'embedding').length,
      dropped: toDrops(DROP_REASONS, drops),
    },
    adjustments: toDrops(ADJUSTMENTS, adjust),
    quality: {
      formula: QUALITY_FORMULA,
      aa_to_elo_fit: fit,
      elo_min: roundTo(eloMin, FIT_DECIMALS),
      elo_max: roundTo(eloMax, FIT_DECIMALS),
      from_elo: quality.fromElo,
      from_aa: quality.fromAa,
      none: quality.none,
    },
    fields: FIELD_DOCS,
  };
  return { schema_version: 1, provenance, models: out };
}

/** Provenance pretty-printed, one model per line: readable, and diffs show exactly which models changed. */
export function serializeCatalog(catalog: CatalogFile): string {
  const provenance = JSON.stringify(catalog.provenance, null, 2).replace(/\n/g, '\n  ');
  const models = catalog.models.map((m) => `    ${JSON.stringify(m)}`).join(',\n');
  return `{\n  "schema_version": ${catalog.schema_version},\n  "provenance": ${provenance},\n  "models": [\n${models}\n  ]\n}\n`;
}

function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

function existingDate(text: string): string | undefined {
  return /"generated_on": "(\d{4}-\d{2}-\d{2})"/.exec(text)?.[1];
}

/** Generates and writes the catalog; leaves an up-to-date file untouched so re-runs on later days are no-ops. */
export function buildCatalog(opts: BuildOptions = {}): BuildResult {
  const sourceDir = resolve(opts.sourceDir ?? DEFAULT_SOURCE_DIR);
  const outFile = resolve(opts.outFile ?? DEFAULT_OUT_FILE);
  const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : undefined;
  const previousDate = previous === undefined ? undefined : existingDate(previous);
  if (opts.generatedOn === undefined && previousDate !== undefined) {
    const catalog = generateCatalog({ sourceDir, generatedOn: previousDate });
    if (serializeCatalog(catalog) === previous) return { outFile, written: false, catalog };
  }
  const catalog = generateCatalog({ sourceDir, generatedOn: opts.generatedOn ?? todayUtc() });
  const text = serializeCatalog(catalog);
  if (text === previous) return { outFile, written: false, catalog };
  writeFileSync(outFile, text);
  return { outFile, written: true, catalog };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      source: { type: 'string' },
      out: { type: 'string' },
      date: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write('usage: build-catalog [--source DIR] [--out FILE] [--date YYYY-MM-DD]\n');
    return;
  }
  if (values.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.date)) throw new Error('--date must be YYYY-MM-DD');
  const result = buildCatalog({ sourceDir: values.source, outFile: values.out, generatedOn: values.date });
  const { rows } = result.catalog.provenance;
  const where = relative(process.cwd(), result.outFile);
  process.stdout.write(
    `${result.written ? 'wrote' : 'unchanged'} ${where}: ${rows.kept} models (${rows.chat} chat, ${rows.embedding} embedding) of ${rows.source} source rows\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
