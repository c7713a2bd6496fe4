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
  type CatalogProvider,
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
const ARENA_FILE = 'raw/lmarena/arena-catalog/leaderboard-text-style-control.json';

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
  deprecated:
    'present only on models retired before the price snapshot (YYYY-MM-DD, LiteLLM deprecation_date); kept for ' +
    'pricing, left out of Catalog.list() by default. See provenance.deprecated',
  alias_of: 'present only on alias entries: the id of the entry this one copies. See provenance.aliases',
};

// ---- Rows the shared derivation dropped only because they were retired before the price snapshot ----
//
// models.json drops LiteLLM rows whose deprecation_date is before the price snapshot date. Users still configure
// those ids and usage on them must still be priced, so they are re-derived here from the raw LiteLLM file with the
// shared derivation's provider mapping and id normalisation (checked against models.json in the tests), and marked
// `deprecated`. Every other reason the shared derivation drops rows for is applied here too, so only rows that were
// dropped for their date alone come back.

/** LiteLLM `litellm_provider` to catalog provider, as in models.json; `vertex_ai-*` routes are all Vertex. */
const LITELLM_PROVIDERS: Readonly<Record<string, CatalogProvider>> = {
  anthropic: 'anthropic',
  azure: 'azure',
  azure_ai: 'azure_ai',
  bedrock: 'bedrock',
  bedrock_converse: 'bedrock',
  bedrock_mantle: 'bedrock',
  cohere: 'cohere',
  cohere_chat: 'cohere',
  deepseek: 'deepseek',
  fireworks_ai: 'fireworks',
  'fireworks_ai-embedding-models': 'fireworks',
  gemini: 'gemini',
  groq: 'groq',
  mistral: 'mistral',
  ollama: 'ollama',
  openai: 'openai',
  perplexity: 'perplexity',
  together_ai: 'together',
  vertex_ai: 'vertex',
  xai: 'xai',
  // openrouter is deliberately absent: models.json takes OpenRouter from its own API snapshot, not from LiteLLM.
};

/** LiteLLM routing prefixes: the first path segment of a key, removed to get the provider's model id. */
const ROUTING_PREFIXES: ReadonlySet<string> = new Set([
  'anthropic', 'azure', 'azure_ai', 'bedrock', 'bedrock_converse', 'bedrock_mantle', 'cohere', 'cohere_chat',
  'deepseek', 'fireworks_ai', 'gemini', 'groq', 'mistral', 'ollama', 'openai', 'perplexity', 'together_ai',
  'vertex_ai', 'xai',
]);

/** The catalog provider of a LiteLLM route, or undefined when the catalog does not take that route from LiteLLM. */
export function litellmCatalogProvider(litellmProvider: string): CatalogProvider | undefined {
  if (Object.hasOwn(LITELLM_PROVIDERS, litellmProvider)) return LITELLM_PROVIDERS[litellmProvider];
  return litellmProvider.startsWith('vertex_ai-') ? 'vertex' : undefined;
}

/** The provider model id of a LiteLLM key: the key without its routing prefix. */
export function litellmModelId(key: string): string {
  const slash = key.indexOf('/');
  return slash > 0 && ROUTING_PREFIXES.has(key.slice(0, slash)) ? key.slice(slash + 1) : key;
}

/** Per-region, data-zone, provisioned and fine-tune-template ids, which models.json drops in favour of the base id. */
function isVariantRow(provider: CatalogProvider, model: string): boolean {
  if (model.startsWith('invoke/')) return true;
  if (provider === 'bedrock') return /^(?:us|us-gov|eu|apac|ap|au|ca|jp|global)\./.test(model) || model.includes('/');
  if (provider === 'azure') return /^(?:eu|us|global|global-standard)\//.test(model);
  if (provider === 'openai') return model.startsWith('ft:');
  return false;
}

/** LiteLLM keys left out by hand although they pass every rule, with the reason. Keep this short. */
const DEPRECATED_EXCLUDE: Readonly<Record<string, string>> = {
  'gemini/gemini-1.5-flash':
    'labelled mode "embedding" with output price 0 (its row describes a multimodal embedding model), but ' +
    'gemini-1.5-flash is a chat model: pricing chat usage with it would bill output tokens at 0',
};

const DEPRECATED_SKIPS = {
  otherMode: 'mode other than chat/embedding',
  provider: 'provider the catalog does not take from LiteLLM (OpenRouter comes from its own API snapshot; others are not covered)',
  variant: 'per-region, data-zone, provisioned or fine-tune template row (models.json keeps the base id)',
  noPrice: 'no token price, or 0/0 meaning unknown',
  present: 'id already in models.json',
  duplicate: 'another LiteLLM key gives the same id (the key equal to the id, else the first key, wins)',
  excluded: 'excluded by hand, see DEPRECATED_EXCLUDE in scripts/build-catalog.ts',
} as const;
type DeprecatedSkipKey = keyof typeof DEPRECATED_SKIPS;

const DEPRECATED_RULE =
  'LiteLLM rows with deprecation_date before the price snapshot date (which models.json drops for that reason ' +
  'alone), re-derived with the same provider mapping and id normalisation: mode chat/embedding, a provider the ' +
  'catalog takes from LiteLLM, no per-region/data-zone/provisioned/fine-tune-template row, a token price, and an ' +
  'id not already in models.json. Prices are LiteLLM USD per token x 1e6; ctx = max_input_tokens else ' +
  'max_tokens; max_out = max_output_tokens; caps from supports_*; aa = null; elo = the LMArena style-controlled ' +
  'text "full" rating of the one arena model whose name is equal after lower-casing, taking the last path ' +
  'segment, "@"->"-", dropping a "-001" tag and ".", "_", ":"->"-" (the "exact" rule of the shared join; ' +
  'chat models only, never "-latest" ids), else null.';

function num(row: Record<string, unknown>, key: string): number | undefined {
  const v = row[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Arena model names on the Elo join's normalised form; names that collide are ambiguous and map to null. */
function eloName(name: string): string {
  const last = name.toLowerCase().split('/').pop() ?? '';
  return last.replace('@', '-').replace(/-001$/, '').replace(/[._:]/g, '-');
}

function arenaRatings(text: string): Map<string, number | null> {
  const file = z.object({ full: z.record(z.string(), z.object({ rating: z.number() })) }).parse(JSON.parse(text));
  const out = new Map<string, number | null>();
  for (const [name, { rating }] of Object.entries(file.full).sort(([a], [b]) => compare(a, b))) {
    const k = eloName(name);
    out.set(k, out.has(k) ? null : roundTo(rating, 1));
  }
  return out;
}

interface DeprecatedRows {
  rows: Array<SourceRow & { deprecated: string }>;
  skips: Record<DeprecatedSkipKey, number>;
}

function deprecatedRows(
  litellmRows: Readonly<Record<string, unknown>>,
  cutoff: string,
  present: ReadonlySet<string>,
  arena: ReadonlyMap<string, number | null>,
): DeprecatedRows {
  const skips = counter(Object.keys(DEPRECATED_SKIPS) as DeprecatedSkipKey[]);
  const byId = new Map<string, { key: string; row: SourceRow & { deprecated: string } }>();
  const entries = Object.entries(litellmRows).sort(([a], [b]) => compare(a, b));
  for (const [key, value] of entries) {
    if (typeof value !== 'object' || value === null) continue;
    const r = value as Record<string, unknown>;
    const date = r['deprecation_date'];
    if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date) || date >= cutoff) continue;
    const mode = r['mode'];
    if (mode !== 'chat' && mode !== 'embedding') {
      skips.otherMode++;
      continue;
    }
    const provider = typeof r['litellm_provider'] === 'string' ? litellmCatalogProvider(r['litellm_provider']) : undefined;
    if (provider === undefined) {
      skips.provider++;
      continue;
    }
    const model = litellmModelId(key);
    if (model === '' || model.endsWith('/') || isVariantRow(provider, model)) {
      skips.variant++;
      continue;
    }
    const input = num(r, 'input_cost_per_token');
    const output = num(r, 'output_cost_per_token') ?? (mode === 'embedding' ? 0 : undefined);
    const free = provider === 'ollama' || model.includes('free');
    if (input === undefined || output === undefined || (input === 0 && output === 0 && !free)) {
      skips.noPrice++;
      continue;
    }
    const id = `${provider}/${model}`;
    if (present.has(id)) {
      skips.present++;
      continue;
    }
    if (Object.hasOwn(DEPRECATED_EXCLUDE, key)) {
      skips.excluded++;
      continue;
    }
    const cached = num(r, 'cache_read_input_token_cost');
    const elo = mode === 'chat' && !model.endsWith('-latest') ? (arena.get(eloName(model)) ?? null) : null;
    const row = {
      id,
      provider,
      provider_model_id: model,
      mode,
      input_usd_per_mtok: input * 1e6,
      output_usd_per_mtok: output * 1e6,
      cached_input_usd_per_mtok: cached === undefined ? null : cached * 1e6,
      context_window: num(r, 'max_input_tokens') ?? num(r, 'max_tokens') ?? null,
      max_output_tokens: mode === 'embedding' ? null : (num(r, 'max_output_tokens') ?? null),
      supports: {
        tools: r['supports_function_calling'] === true,
        vision: r['supports_vision'] === true,
        json: r['supports_response_schema'] === true,
        reasoning: r['supports_reasoning'] === true,
      },
      quality_elo: elo,
      aa_intelligence_index: null,
      source: `litellm:${key}`,
      deprecated: date,
    };
    const previous = byId.get(id);
    if (previous === undefined) byId.set(id, { key, row });
    else {
      skips.duplicate++;
      // Keys are visited in order, so the first key already won unless this key is the id itself.
      if (key === model && previous.key !== model) byId.set(id, { key, row });
    }
  }
  return { rows: [...byId.values()].map((v) => v.row), skips };
}

// ---- Alias entries for well-known naming mismatches between LiteLLM and the provider's API ----

/**
 * Pairs of ids that name the same model: LiteLLM keeps it under the first, the provider's API takes the second.
 * When exactly one side is in the catalog, the other is added as a copy that records `alias_of`. Only add pairs
 * that are checked against the provider's documentation, with the same provider on both sides.
 */
export const MODEL_ALIASES: ReadonlyArray<readonly [string, string]> = [
  ['anthropic/claude-4-sonnet-20250514', 'anthropic/claude-sonnet-4-20250514'],
  ['anthropic/claude-4-opus-20250514', 'anthropic/claude-opus-4-20250514'],
];

const ALIAS_RULE =
  'For each pair in MODEL_ALIASES (scripts/build-catalog.ts): when exactly one id is in the catalog, the other is ' +
  'added as a copy of it (same prices, limits, quality, src and deprecated) with alias_of = the copied id. Pairs ' +
  'with both ids present are left alone.';

/** Alias entries for `models` (which it does not change); pure, so it can be tested on its own. */
export function aliasEntries(
  models: readonly CatalogFileModel[],
  pairs: ReadonlyArray<readonly [string, string]> = MODEL_ALIASES,
): CatalogFileModel[] {
  const byId = new Map(models.map((m) => [m.id, m]));
  const out: CatalogFileModel[] = [];
  for (const [a, b] of pairs) {
    const [pa, pb] = [a.slice(0, a.indexOf('/')), b.slice(0, b.indexOf('/'))];
    if (pa !== pb || pa === '') throw new Error(`alias pair ${a} ↔ ${b} must name one provider`);
    const hasA = byId.get(a);
    const hasB = byId.get(b);
    if ((hasA === undefined) === (hasB === undefined)) continue;
    const target = (hasA ?? hasB) as CatalogFileModel;
    const id = hasA === undefined ? a : b;
    out.push({ ...target, id, model: id.slice(pa.length + 1), alias_of: target.id });
  }
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

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

function litellmCacheWrites(rows: Readonly<Record<string, unknown>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, row] of Object.entries(rows)) {
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
  const litellm = loadSource(
    opts.sourceDir,
    LITELLM_FILE,
    'cache-write prices of LiteLLM-sourced rows; rows retired before the price snapshot (deprecated)',
  );
  const openrouter = loadSource(opts.sourceDir, OPENROUTER_FILE, 'cache-write prices of OpenRouter-sourced rows');
  const arena = loadSource(opts.sourceDir, ARENA_FILE, 'Elo of the deprecated rows (exact-name join)');

  const rows = z.array(SourceRow).parse(JSON.parse(models.text));
  const snapshotDates = { prices: readmeDate(readme.text, 'Prices'), elo: readmeDate(readme.text, 'Elo') };
  const litellmRows = LiteLlmFile.parse(JSON.parse(litellm.text));
  const llWrites = litellmCacheWrites(litellmRows);
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

  const retired = deprecatedRows(
    litellmRows,
    snapshotDates.prices,
    new Set(rows.map((r) => r.id)),
    arenaRatings(arena.text),
  );
  const deprecatedOf = new Map<SourceRow, string>(retired.rows.map((r) => [r, r.deprecated]));
  const all: SourceRow[] = [...kept, ...retired.rows];

  // The fit uses the models.json rows only; the deprecated rows have no AA index and so could not change it anyway.
  const fit = fitAaToElo(kept);
  const elos = all.map((r) => effectiveElo(r, fit)).filter((e): e is number => e !== null);
  const eloMin = Math.min(...elos);
  const eloMax = Math.max(...elos);
  const quality = { fromElo: 0, fromAa: 0, none: 0 };

  const derived: CatalogFileModel[] = all.map((row) => {
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
    const model: CatalogFileModel = {
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
    const deprecated = deprecatedOf.get(row);
    if (deprecated !== undefined) model.deprecated = deprecated;
    return model;
  });
  const aliases = aliasEntries(derived);
  for (const a of aliases) {
    if (a.elo !== null) quality.fromElo++;
    else if (a.quality !== null) quality.fromAa++;
    else quality.none++;
  }
  const out = [...derived, ...aliases].sort((a, b) => compare(a.id, b.id));

  const provenance: CatalogProvenance = {
    generator: GENERATOR,
    generated_on: opts.generatedOn,
    source_dir: relative(REPO_ROOT, opts.sourceDir).split(sep).join('/'),
    sources: [models.info, readme.info, litellm.info, openrouter.info, arena.info],
    snapshot_dates: snapshotDates,
    rows: {
      source: rows.length,
      kept: kept.length,
      chat: kept.filter((r) => r.mode === 'chat').length,
      embedding: kept.filter((r) => r.mode === 'embedding').length,
      dropped: toDrops(DROP_REASONS, drops),
    },
    deprecated: {
      source: litellm.info.path,
      before: snapshotDates.prices,
      rule: DEPRECATED_RULE,
      added: retired.rows.length,
      chat: retired.rows.filter((r) => r.mode === 'chat').length,
      embedding: retired.rows.filter((r) => r.mode === 'embedding').length,
      with_elo: retired.rows.filter((r) => r.quality_elo !== null).length,
      skipped: toDrops(DEPRECATED_SKIPS, retired.skips),
    },
    aliases: {
      rule: ALIAS_RULE,
      pairs: MODEL_ALIASES.length,
      added: aliases.map((a) => ({ id: a.id, alias_of: a.alias_of as string })),
    },
    total: out.length,
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
  const { rows, deprecated, aliases, total } = result.catalog.provenance;
  const where = relative(process.cwd(), result.outFile);
  process.stdout.write(
    `${result.written ? 'wrote' : 'unchanged'} ${where}: ${total} models: ${rows.kept} (${rows.chat} chat, ` +
      `${rows.embedding} embedding) of ${rows.source} models.json rows, ${deprecated.added} deprecated ` +
      `(${deprecated.chat} chat, ${deprecated.embedding} embedding), ${aliases.added.length} aliases\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
