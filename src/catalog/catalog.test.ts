import { describe, expect, it } from 'vitest';
import type { ProviderType } from '../providers/types.ts';
import { CATALOG_PROVIDERS, Catalog, PROVIDER_TYPE_TO_CATALOG, catalogProviderFor, type CatalogFile } from './catalog.ts';
import { computeCost } from './pricing.ts';

const catalog = Catalog.default();

describe('Catalog.default', () => {
  it('is a singleton with well over 250 chat and embedding models', () => {
    expect(Catalog.default()).toBe(catalog);
    expect(catalog.size).toBeGreaterThan(250);
    const current = catalog.list({ mode: 'chat' }).length + catalog.list({ mode: 'embedding' }).length;
    expect(current).toBeGreaterThanOrEqual(250);
    expect(current).toBe(catalog.list().length);
    const all = catalog.list({ mode: 'chat', includeDeprecated: true }).length + catalog.list({ mode: 'embedding', includeDeprecated: true }).length;
    expect(all).toBe(catalog.size);
    expect(catalog.list({ mode: 'embedding' }).length).toBeGreaterThan(20);
  });

  it('knows gpt-4o-mini prices and capabilities', () => {
    const m = catalog.get('openai', 'gpt-4o-mini');
    expect(m).toBeDefined();
    expect(m?.id).toBe('openai/gpt-4o-mini');
    expect(m?.price.inputPerMtok).toBe(0.15);
    expect(m?.price.outputPerMtok).toBe(0.6);
    expect(m?.price.cachedInputPerMtok).toBe(0.075);
    expect(m?.capabilities).toEqual({ tools: true, vision: true, json: true, reasoning: false });
    expect(m?.mode).toBe('chat');
  });

  it('has cache-read and cache-write prices for Anthropic models', () => {
    const claude = catalog.list({ provider: 'anthropic' });
    expect(claude.length).toBeGreaterThan(5);
    for (const m of claude) {
      expect(m.price.cachedInputPerMtok).toBeGreaterThan(0);
      expect(m.price.cacheWritePerMtok).toBeGreaterThan(m.price.inputPerMtok);
    }
    const sonnet = catalog.get('anthropic', 'claude-sonnet-4-5');
    expect(sonnet?.price).toEqual({ inputPerMtok: 3, outputPerMtok: 15, cachedInputPerMtok: 0.3, cacheWritePerMtok: 3.75 });
  });

  it('drops Responses-API-only models and keeps embeddings', () => {
    expect(catalog.list().some((m) => (m.mode as string) === 'responses')).toBe(false);
    expect(catalog.get('openai', 'text-embedding-3-small')?.mode).toBe('embedding');
  });

  it('keeps quality in 0..1 and null only without a signal', () => {
    const scored = catalog.list().filter((m) => m.quality !== null);
    expect(scored.length).toBeGreaterThan(400);
    for (const m of scored) {
      expect(m.quality).toBeGreaterThanOrEqual(0);
      expect(m.quality).toBeLessThanOrEqual(1);
    }
    const better = catalog.get('anthropic', 'claude-sonnet-4-5')?.quality ?? 0;
    const worse = catalog.get('openai', 'gpt-4o-mini')?.quality ?? 1;
    expect(better).toBeGreaterThan(worse);
  });

  it('prices deprecated models but does not list them by default', () => {
    const m = catalog.get('anthropic', 'claude-sonnet-4-20250514');
    expect(m?.id).toBe('anthropic/claude-sonnet-4-20250514');
    expect(m?.deprecated).toBe('2026-05-14');
    expect(m?.aliasOf).toBeNull();
    expect(m?.price).toEqual({ inputPerMtok: 3, outputPerMtok: 15, cachedInputPerMtok: 0.3, cacheWritePerMtok: 3.75 });
    expect(computeCost(m?.price ?? { inputPerMtok: 0, outputPerMtok: 0 }, { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 })).toBe(0.0045);
    expect(catalog.findByModelId('claude-sonnet-4-20250514')).toBe(m);
    expect(catalog.get('anthropic', 'claude-sonnet-4-5')?.deprecated).toBeNull();

    const anthropic = catalog.list({ provider: 'anthropic' });
    expect(anthropic.length).toBeGreaterThan(5);
    expect(anthropic.some((x) => x.id === m?.id)).toBe(false);
    expect(anthropic.every((x) => x.deprecated === null)).toBe(true);
    const withRetired = catalog.list({ provider: 'anthropic', includeDeprecated: true });
    expect(withRetired).toContain(m);
    expect(withRetired.length).toBeGreaterThan(anthropic.length);
    expect(catalog.list().some((x) => x.deprecated !== null)).toBe(false);
    expect(catalog.list({ includeDeprecated: true }).length).toBe(catalog.size);
    expect(catalog.get('vertex', 'text-embedding-004')?.deprecated).not.toBeNull();
  });

  it('returns frozen models', () => {
    const m = catalog.get('openai', 'gpt-4o-mini');
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m?.price)).toBe(true);
  });
});

describe('provider mapping', () => {
  it('maps every provider type to a catalog provider or null', () => {
    for (const [type, provider] of Object.entries(PROVIDER_TYPE_TO_CATALOG)) {
      if (provider !== null) expect(CATALOG_PROVIDERS).toContain(provider);
      else expect(['vllm', 'lmstudio', 'openai-compatible']).toContain(type);
    }
    const identity: ProviderType[] = ['openai', 'azure', 'anthropic', 'gemini', 'vertex', 'bedrock', 'openrouter'];
    for (const t of identity) expect(PROVIDER_TYPE_TO_CATALOG[t]).toBe(t);
  });

  it('resolves catalog names and provider types, and nothing else', () => {
    expect(catalogProviderFor('azure_ai')).toBe('azure_ai');
    expect(catalogProviderFor('together')).toBe('together');
    expect(catalogProviderFor('vllm')).toBeUndefined();
    expect(catalogProviderFor('nope')).toBeUndefined();
    expect(catalogProviderFor('toString')).toBeUndefined();
  });

  it('looks models up through provider types', () => {
    expect(catalog.get('vertex', 'gemini-2.5-pro')?.provider).toBe('vertex');
    expect(catalog.get('vllm', 'gpt-4o-mini')).toBeUndefined();
    expect(catalog.get('openai-compatible', 'gpt-4o-mini')).toBeUndefined();
    expect(catalog.list({ provider: 'lmstudio' })).toEqual([]);
    expect(catalog.list({ provider: 'bedrock' }).every((m) => m.provider === 'bedrock')).toBe(true);
  });

  it('resolves Bedrock cross-region inference profiles to the base model', () => {
    const base = catalog.get('bedrock', 'anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(base).toBeDefined();
    expect(catalog.get('bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0')).toBe(base);
    expect(catalog.get('bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0')).toBe(base);
    expect(catalog.get('openai', 'us.gpt-4o-mini')).toBeUndefined();
  });
});

describe('findByModelId', () => {
  it('prefers the first-party provider', () => {
    expect(catalog.findByModelId('gpt-4o-mini')?.provider).toBe('openai');
    expect(catalog.findByModelId('claude-sonnet-4-5')?.provider).toBe('anthropic');
    expect(catalog.findByModelId('gemini-2.5-pro')?.provider).toBe('gemini');
    expect(catalog.findByModelId('openai/gpt-4o-mini')?.provider).toBe('openrouter');
    expect(catalog.findByModelId('no-such-model')).toBeUndefined();
  });

  it('falls back to other providers alphabetically', () => {
    const file: CatalogFile = {
      schema_version: 1,
      provenance: catalog.provenance,
      models: [
        row('together', 'm'),
        row('fireworks', 'm'),
        row('groq', 'm'),
        row('vertex', 'x'),
        row('bedrock', 'x'),
      ],
    };
    const small = new Catalog(file);
    expect(small.size).toBe(5);
    expect(small.findByModelId('m')?.provider).toBe('groq');
    expect(small.findByModelId('x')?.provider).toBe('bedrock');
  });
});

describe('deprecated entries', () => {
  it('are found by get and findByModelId but listed only on request', () => {
    const file: CatalogFile = {
      schema_version: 1,
      provenance: catalog.provenance,
      models: [row('openai', 'new'), { ...row('openai', 'old'), deprecated: '2026-01-01' }, { ...row('openai', 'old-alias'), alias_of: 'openai/old' }],
    };
    const small = new Catalog(file);
    expect(small.size).toBe(3);
    expect(small.get('openai', 'old')?.deprecated).toBe('2026-01-01');
    expect(small.findByModelId('old')?.deprecated).toBe('2026-01-01');
    expect(small.get('openai', 'new')?.deprecated).toBeNull();
    expect(small.get('openai', 'old-alias')?.aliasOf).toBe('openai/old');
    expect(small.list().map((m) => m.providerModelId)).toEqual(['new', 'old-alias']);
    expect(small.list({ provider: 'openai', mode: 'chat' }).map((m) => m.providerModelId)).toEqual(['new', 'old-alias']);
    expect(small.list({ includeDeprecated: true }).map((m) => m.providerModelId)).toEqual(['new', 'old', 'old-alias']);
    expect(small.list({ provider: 'openai', includeDeprecated: true })).toHaveLength(3);
  });
});

function row(provider: CatalogFile['models'][number]['provider'], model: string): CatalogFile['models'][number] {
  return {
    id: `${provider}/${model}`,
    provider,
    model,
    mode: 'chat',
    in: 1,
    out: 2,
    cached_in: null,
    cache_write: null,
    ctx: null,
    max_out: null,
    caps: [],
    quality: null,
    elo: null,
    aa: null,
    src: 'test',
  };
}
