// The model catalog: prices, limits, capabilities and a quality score per provider model, read from the
// generated catalog.json (see scripts/build-catalog.ts and docs/catalog.md).
import { readFileSync } from 'node:fs';
import type { ProviderType } from '../providers/types.ts';
import type { ModelPrice } from './pricing.ts';

/** Provider names as the source catalog spells them (`azure_ai` is Azure AI Foundry, not Azure OpenAI). */
export const CATALOG_PROVIDERS = [
  'anthropic',
  'azure',
  'azure_ai',
  'bedrock',
  'cohere',
  'deepseek',
  'fireworks',
  'gemini',
  'groq',
  'mistral',
  'ollama',
  'openai',
  'openrouter',
  'perplexity',
  'together',
  'vertex',
  'xai',
] as const;
export type CatalogProvider = (typeof CATALOG_PROVIDERS)[number];

export const CAPABILITIES = ['json', 'reasoning', 'tools', 'vision'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export type CatalogMode = 'chat' | 'embedding';

/** Our provider types to catalog providers; self-hosted OpenAI-compatible servers have no catalog prices. */
export const PROVIDER_TYPE_TO_CATALOG: Readonly<Record<ProviderType, CatalogProvider | null>> = {
  openai: 'openai',
  azure: 'azure',
  deepseek: 'deepseek',
  groq: 'groq',
  mistral: 'mistral',
  together: 'together',
  fireworks: 'fireworks',
  xai: 'xai',
  perplexity: 'perplexity',
  openrouter: 'openrouter',
  ollama: 'ollama',
  anthropic: 'anthropic',
  gemini: 'gemini',
  vertex: 'vertex',
  bedrock: 'bedrock',
  vllm: null,
  lmstudio: null,
  'openai-compatible': null,
};

/** Preferred providers when a bare model id is looked up; every other provider follows, alphabetically. */
const FIRST_PARTY_ORDER: readonly CatalogProvider[] = ['openai', 'anthropic', 'gemini', 'deepseek', 'mistral', 'xai', 'groq'];

/** One row of catalog.json. Short field names keep the file small; docs/catalog.md lists them. */
export interface CatalogFileModel {
  /** `<provider>/<model>` */
  id: string;
  provider: CatalogProvider;
  /** The id sent to the provider's API. */
  model: string;
  mode: CatalogMode;
  /** USD per 1M input tokens. */
  in: number;
  /** USD per 1M output tokens. */
  out: number;
  /** USD per 1M cache-read input tokens; null = not priced separately. */
  cached_in: number | null;
  /** USD per 1M cache-write (5-minute TTL) input tokens; null = not priced separately. */
  cache_write: number | null;
  /** Context window (max input tokens). */
  ctx: number | null;
  /** Output-token cap; null = unknown or bounded only by the context window. */
  max_out: number | null;
  /** Capabilities the source declares; an absent one means false. */
  caps: Capability[];
  /** 0..1 quality score; null when the model has neither an Elo nor an AA index. */
  quality: number | null;
  /** LMArena style-controlled text Elo the score derives from, if any. */
  elo: number | null;
  /** Artificial Analysis intelligence index, if any. */
  aa: number | null;
  /** Where the row came from, e.g. `litellm:<key>`. */
  src: string;
  /** Only on models retired before the price snapshot: the deprecation date (YYYY-MM-DD). */
  deprecated?: string;
  /** Only on alias entries: the id of the entry this one copies (a known LiteLLM/provider naming mismatch). */
  alias_of?: string;
}

export interface CatalogSourceFile {
  /** Relative to the shared folder, e.g. `data/catalog/models.json`. */
  path: string;
  sha256: string;
  used_for: string;
}

export interface CatalogDrop {
  reason: string;
  count: number;
}

export interface CatalogQualityProvenance {
  formula: string;
  /** Least-squares fit elo = intercept + slope * aa over distinct (aa, elo) pairs. */
  aa_to_elo_fit: { intercept: number; slope: number; r2: number; pairs: number };
  /** Effective-Elo range mapped onto 0..1. */
  elo_min: number;
  elo_max: number;
  from_elo: number;
  from_aa: number;
  none: number;
}

/** Models re-added from LiteLLM because models.json drops them only for being retired before the snapshot. */
export interface CatalogDeprecatedProvenance {
  /** The LiteLLM file, relative to the shared folder. */
  source: string;
  /** Rows whose deprecation_date is before this date (the price snapshot date). */
  before: string;
  rule: string;
  added: number;
  chat: number;
  embedding: number;
  /** How many of the added rows have an Elo (and so a quality score). */
  with_elo: number;
  /** Retired rows not added, by reason. */
  skipped: CatalogDrop[];
}

export interface CatalogAliasProvenance {
  rule: string;
  /** Size of the alias table in scripts/build-catalog.ts. */
  pairs: number;
  added: Array<{ id: string; alias_of: string }>;
}

export interface CatalogProvenance {
  generator: string;
  generated_on: string;
  source_dir: string;
  sources: CatalogSourceFile[];
  snapshot_dates: { prices: string; elo: string };
  /** models.json rows only; see `deprecated` and `aliases` for the rest, `total` for the sum. */
  rows: { source: number; kept: number; chat: number; embedding: number; dropped: CatalogDrop[] };
  deprecated: CatalogDeprecatedProvenance;
  aliases: CatalogAliasProvenance;
  /** Number of models in the file: rows.kept + deprecated.added + aliases.added.length. */
  total: number;
  adjustments: CatalogDrop[];
  quality: CatalogQualityProvenance;
  fields: Record<string, string>;
}

export interface CatalogFile {
  schema_version: 1;
  provenance: CatalogProvenance;
  models: CatalogFileModel[];
}

export interface CatalogModel {
  id: string;
  provider: CatalogProvider;
  providerModelId: string;
  mode: CatalogMode;
  price: ModelPrice;
  contextWindow: number | null;
  maxOutputTokens: number | null;
  capabilities: { tools: boolean; vision: boolean; json: boolean; reasoning: boolean };
  quality: number | null;
  /** Deprecation date (YYYY-MM-DD) of a model retired before the price snapshot; null for current models. */
  deprecated: string | null;
  /** For an alias entry, the catalog id it copies; null otherwise. */
  aliasOf: string | null;
}

export interface CatalogFilter {
  provider?: string;
  mode?: CatalogMode;
  /** Also list models retired before the price snapshot (`deprecated !== null`). Default false. */
  includeDeprecated?: boolean;
}

const CATALOG_PROVIDER_SET: ReadonlySet<string> = new Set(CATALOG_PROVIDERS);

/** Resolves either a catalog provider name or one of our provider types; undefined when neither. */
export function catalogProviderFor(provider: string): CatalogProvider | undefined {
  if (CATALOG_PROVIDER_SET.has(provider)) return provider as CatalogProvider;
  if (Object.hasOwn(PROVIDER_TYPE_TO_CATALOG, provider)) {
    return PROVIDER_TYPE_TO_CATALOG[provider as ProviderType] ?? undefined;
  }
  return undefined;
}

// Bedrock cross-region inference profiles (`us.anthropic.claude-…`) share the base model's catalog row.
const BEDROCK_GEO_PREFIX = /^(?:us|us-gov|eu|apac|ap|au|ca|jp|global)\./;

function toModel(row: CatalogFileModel): CatalogModel {
  const caps = row.caps;
  return Object.freeze({
    id: row.id,
    provider: row.provider,
    providerModelId: row.model,
    mode: row.mode,
    price: Object.freeze({
      inputPerMtok: row.in,
      outputPerMtok: row.out,
      cachedInputPerMtok: row.cached_in,
      cacheWritePerMtok: row.cache_write,
    }),
    contextWindow: row.ctx,
    maxOutputTokens: row.max_out,
    capabilities: Object.freeze({
      tools: caps.includes('tools'),
      vision: caps.includes('vision'),
      json: caps.includes('json'),
      reasoning: caps.includes('reasoning'),
    }),
    quality: row.quality,
    deprecated: row.deprecated ?? null,
    aliasOf: row.alias_of ?? null,
  });
}

function providerRank(provider: CatalogProvider): number {
  const i = FIRST_PARTY_ORDER.indexOf(provider);
  return i === -1 ? FIRST_PARTY_ORDER.length : i;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

let defaultCatalog: Catalog | undefined;

export class Catalog {
  readonly provenance: CatalogProvenance;
  private readonly models: readonly CatalogModel[];
  private readonly current: readonly CatalogModel[];
  private readonly byKey = new Map<string, CatalogModel>();
  private readonly byModelId = new Map<string, CatalogModel>();

  constructor(file: CatalogFile) {
    if (file.schema_version !== 1) throw new Error(`unsupported catalog schema_version ${String(file.schema_version)}`);
    this.provenance = file.provenance;
    this.models = Object.freeze(file.models.map(toModel));
    this.current = Object.freeze(this.models.filter((m) => m.deprecated === null));
    for (const m of this.models) this.byKey.set(m.id, m);
    const preferred = [...this.models].sort(
      (a, b) => providerRank(a.provider) - providerRank(b.provider) || compareStrings(a.provider, b.provider),
    );
    for (const m of preferred) if (!this.byModelId.has(m.providerModelId)) this.byModelId.set(m.providerModelId, m);
  }

  /** The catalog shipped in src/catalog/catalog.json, parsed on first use. */
  static default(): Catalog {
    defaultCatalog ??= Catalog.fromFile(new URL('./catalog.json', import.meta.url));
    return defaultCatalog;
  }

  static fromFile(path: string | URL): Catalog {
    return new Catalog(JSON.parse(readFileSync(path, 'utf8')) as CatalogFile);
  }

  /** Number of entries, deprecated ones included. */
  get size(): number {
    return this.models.length;
  }

  /**
   * `provider` is a catalog provider (`azure_ai`) or one of our provider types (`vllm` finds nothing).
   * Finds deprecated models too, so usage on retired models is still priced.
   */
  get(provider: string, providerModelId: string): CatalogModel | undefined {
    const p = catalogProviderFor(provider);
    if (p === undefined) return undefined;
    const hit = this.byKey.get(`${p}/${providerModelId}`);
    if (hit !== undefined || p !== 'bedrock') return hit;
    const base = providerModelId.replace(BEDROCK_GEO_PREFIX, '');
    return base === providerModelId ? undefined : this.byKey.get(`bedrock/${base}`);
  }

  /** A bare model id, resolved to the first-party provider's entry when several providers serve it. Like `get`, finds deprecated models. */
  findByModelId(providerModelId: string): CatalogModel | undefined {
    return this.byModelId.get(providerModelId);
  }

  /** Current models, sorted by id; deprecated ones only with `includeDeprecated: true`. */
  list(filter?: CatalogFilter): readonly CatalogModel[] {
    const models = filter?.includeDeprecated === true ? this.models : this.current;
    if (filter?.provider === undefined && filter?.mode === undefined) return models;
    const provider = filter.provider === undefined ? undefined : catalogProviderFor(filter.provider);
    if (filter.provider !== undefined && provider === undefined) return [];
    return models.filter(
      (m) => (provider === undefined || m.provider === provider) && (filter.mode === undefined || m.mode === filter.mode),
    );
  }
}
