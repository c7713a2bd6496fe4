import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogFileModel } from '../src/catalog/catalog.ts';
import {
  DEFAULT_OUT_FILE,
  DEFAULT_SOURCE_DIR,
  MODEL_ALIASES,
  aliasEntries,
  buildCatalog,
  generateCatalog,
  litellmCatalogProvider,
  litellmModelId,
  serializeCatalog,
} from './build-catalog.ts';

const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The generator reads the shared catalog snapshot beside the repository (../shared/data/catalog); a
// checkout without it cannot rebuild the catalog, so these tests say so and skip.
const sourcePresent = existsSync(join(DEFAULT_SOURCE_DIR, 'models.json'));
if (!sourcePresent) console.warn(`build-catalog tests SKIPPED: ${DEFAULT_SOURCE_DIR} is not present`);

describe.skipIf(!sourcePresent)('build-catalog', () => {
  it('is deterministic: two builds give byte-identical files', () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    expect(buildCatalog({ outFile: a, generatedOn: '2026-01-02' }).written).toBe(true);
    expect(buildCatalog({ outFile: b, generatedOn: '2026-01-02' }).written).toBe(true);
    expect(readFileSync(a)).toEqual(readFileSync(b));
  });

  it('leaves an up-to-date file untouched and keeps its date', () => {
    const file = join(dir, 'c.json');
    buildCatalog({ outFile: file, generatedOn: '2026-01-02' });
    const before = readFileSync(file, 'utf8');
    const again = buildCatalog({ outFile: file });
    expect(again.written).toBe(false);
    expect(again.catalog.provenance.generated_on).toBe('2026-01-02');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('rewrites a stale file with a new date', () => {
    const file = join(dir, 'd.json');
    writeFileSync(file, '{"provenance": {"generated_on": "2020-01-01"}}');
    const result = buildCatalog({ outFile: file });
    expect(result.written).toBe(true);
    expect(result.catalog.provenance.generated_on).not.toBe('2020-01-01');
  });

  it('keeps chat and embedding models, drops responses-only ones, and records why', () => {
    const catalog = generateCatalog({ sourceDir: DEFAULT_SOURCE_DIR, generatedOn: '2026-01-02' });
    const { rows, deprecated, aliases, total } = catalog.provenance;
    expect(total).toBe(catalog.models.length);
    expect(rows.kept + deprecated.added + aliases.added.length).toBe(total);
    expect(rows.chat + rows.embedding).toBe(rows.kept);
    expect(deprecated.chat + deprecated.embedding).toBe(deprecated.added);
    expect(rows.kept).toBeGreaterThan(250);
    expect(catalog.models.filter((m) => m.deprecated === undefined && m.alias_of === undefined).length).toBe(rows.kept);
    const dropped = rows.dropped.reduce((s, d) => s + d.count, 0);
    expect(rows.kept + dropped).toBe(rows.source);
    expect(rows.dropped.find((d) => d.reason.includes('responses'))?.count).toBeGreaterThan(0);
    const ids = catalog.models.map((m) => m.id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(catalog.provenance.sources.map((s) => s.path)).toContain('data/catalog/models.json');
    expect(catalog.provenance.snapshot_dates.prices).toBe('2026-08-01');
  });

  it('derives quality from Elo, else from the AA index via the recorded fit', () => {
    const catalog = generateCatalog({ sourceDir: DEFAULT_SOURCE_DIR, generatedOn: '2026-01-02' });
    const q = catalog.provenance.quality;
    const scale = (e: number): number => Math.round(((e - q.elo_min) / (q.elo_max - q.elo_min)) * 1e4) / 1e4;
    const withElo = catalog.models.find((m) => m.elo !== null);
    const aaOnly = catalog.models.find((m) => m.elo === null && m.aa !== null);
    if (withElo?.elo == null || aaOnly?.aa == null) throw new Error('fixture rows missing');
    expect(withElo.quality).toBeCloseTo(scale(withElo.elo), 4);
    expect(aaOnly.quality).toBeCloseTo(scale(q.aa_to_elo_fit.intercept + q.aa_to_elo_fit.slope * aaOnly.aa), 4);
    expect(catalog.models.filter((m) => m.quality === 1).length).toBeGreaterThan(0);
    expect(catalog.models.filter((m) => m.quality === 0).length).toBeGreaterThan(0);
  });

  it('re-adds LiteLLM rows dropped only for a deprecation date before the price snapshot', () => {
    const catalog = generateCatalog({ sourceDir: DEFAULT_SOURCE_DIR, generatedOn: '2026-01-02' });
    const { deprecated, snapshot_dates: dates } = catalog.provenance;
    expect(deprecated.before).toBe(dates.prices);
    expect(deprecated.source).toBe('data/catalog/raw/litellm/model_prices_and_context_window.json');
    expect(deprecated.added).toBeGreaterThan(30);

    const sonnet = catalog.models.find((m) => m.id === 'anthropic/claude-sonnet-4-20250514');
    expect(sonnet).toMatchObject({
      model: 'claude-sonnet-4-20250514',
      mode: 'chat',
      in: 3,
      out: 15,
      cached_in: 0.3,
      cache_write: 3.75,
      elo: 1389.2,
      src: 'litellm:claude-sonnet-4-20250514',
      deprecated: '2026-05-14',
    });
    expect(sonnet?.caps).toEqual(['json', 'reasoning', 'tools', 'vision']);
    expect(catalog.models.find((m) => m.id === 'vertex/claude-3-7-sonnet@20250219')?.deprecated).toBe('2026-05-11');
    expect(catalog.models.find((m) => m.id === 'vertex/text-embedding-004')).toMatchObject({ mode: 'embedding', in: 0.1, out: 0 });

    // Every LiteLLM row retired before the snapshot is either added or counted under a skip reason.
    const litellm = JSON.parse(
      readFileSync(join(DEFAULT_SOURCE_DIR, 'raw/litellm/model_prices_and_context_window.json'), 'utf8'),
    ) as Record<string, { deprecation_date?: unknown }>;
    const retired = Object.values(litellm).filter(
      (r) => typeof r.deprecation_date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(r.deprecation_date) && r.deprecation_date < dates.prices,
    ).length;
    expect(deprecated.added + deprecated.skipped.reduce((s, d) => s + d.count, 0)).toBe(retired);

    const shared = new Set(readModelsJson().map((r) => r.id));
    const added = catalog.models.filter((m) => m.deprecated !== undefined);
    expect(added.length).toBe(deprecated.added);
    expect(added.filter((m) => m.elo !== null).length).toBe(deprecated.with_elo);
    for (const m of added) {
      expect(shared.has(m.id)).toBe(false);
      expect(m.deprecated ?? '9999').toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect((m.deprecated ?? '9999') < dates.prices).toBe(true);
      expect(m.src.startsWith('litellm:')).toBe(true);
      expect(m.aa).toBeNull();
      if (m.mode === 'embedding') expect(m.quality).toBeNull();
    }
    // Regional/data-zone rows and the hand-excluded mislabelled row stay out.
    expect(catalog.models.some((m) => m.id === 'azure/eu/gpt-4o-2024-08-06')).toBe(false);
    expect(catalog.models.some((m) => m.id === 'gemini/gemini-1.5-flash')).toBe(false);
  });

  it('maps LiteLLM providers and keys exactly as models.json does', () => {
    const litellm = JSON.parse(
      readFileSync(join(DEFAULT_SOURCE_DIR, 'raw/litellm/model_prices_and_context_window.json'), 'utf8'),
    ) as Record<string, { litellm_provider: string }>;
    let checked = 0;
    for (const row of readModelsJson()) {
      if (!row.source.startsWith('litellm:')) continue;
      const key = (row.source.split(' +')[0] ?? '').slice('litellm:'.length);
      const provider = litellm[key]?.litellm_provider ?? '';
      expect(`${litellmCatalogProvider(provider) ?? '?'}/${litellmModelId(key)}`).toBe(row.id);
      checked++;
    }
    expect(checked).toBeGreaterThan(900);
    expect(litellmCatalogProvider('openrouter')).toBeUndefined();
    expect(litellmCatalogProvider('moonshot')).toBeUndefined();
  });

  it('adds an alias entry only when exactly one id of a pair is present', () => {
    const base: CatalogFileModel = {
      id: 'anthropic/claude-4-sonnet-20250514',
      provider: 'anthropic',
      model: 'claude-4-sonnet-20250514',
      mode: 'chat',
      in: 3,
      out: 15,
      cached_in: 0.3,
      cache_write: 3.75,
      ctx: 200000,
      max_out: 64000,
      caps: ['tools'],
      quality: 0.5,
      elo: 1389.2,
      aa: null,
      src: 'litellm:claude-4-sonnet-20250514',
    };
    expect(aliasEntries([base])).toEqual([
      { ...base, id: 'anthropic/claude-sonnet-4-20250514', model: 'claude-sonnet-4-20250514', alias_of: base.id },
    ]);
    const apiSide = { ...base, id: 'anthropic/claude-sonnet-4-20250514', model: 'claude-sonnet-4-20250514', deprecated: '2026-05-14' };
    expect(aliasEntries([apiSide])).toEqual([
      { ...apiSide, id: base.id, model: base.model, alias_of: apiSide.id },
    ]);
    expect(aliasEntries([base, apiSide])).toEqual([]);
    expect(aliasEntries([])).toEqual([]);
    expect(() => aliasEntries([base], [['anthropic/a', 'vertex/a']])).toThrow(/one provider/);

    // With the current data both sides of every pair exist (the API ids come back as deprecated rows).
    const catalog = generateCatalog({ sourceDir: DEFAULT_SOURCE_DIR, generatedOn: '2026-01-02' });
    const ids = new Set(catalog.models.map((m) => m.id));
    for (const [a, b] of MODEL_ALIASES) expect(ids.has(a) && ids.has(b)).toBe(true);
    expect(catalog.provenance.aliases).toMatchObject({ pairs: MODEL_ALIASES.length, added: [] });
  });

  it('matches the committed src/catalog/catalog.json (regenerate with npm run catalog:build)', () => {
    const committed = readFileSync(DEFAULT_OUT_FILE, 'utf8');
    const date = /"generated_on": "([^"]+)"/.exec(committed)?.[1] ?? '';
    expect(serializeCatalog(generateCatalog({ sourceDir: DEFAULT_SOURCE_DIR, generatedOn: date }))).toBe(committed);
  });
});

function readModelsJson(): Array<{ id: string; source: string }> {
  return JSON.parse(readFileSync(join(DEFAULT_SOURCE_DIR, 'models.json'), 'utf8')) as Array<{ id: string; source: string }>;
}
