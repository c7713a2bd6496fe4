import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUT_FILE, buildCatalog, generateCatalog, serializeCatalog, DEFAULT_SOURCE_DIR } from './build-catalog.ts';

const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('build-catalog', () => {
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
    const { rows } = catalog.provenance;
    expect(rows.kept).toBe(catalog.models.length);
    expect(rows.chat + rows.embedding).toBe(rows.kept);
    expect(rows.kept).toBeGreaterThan(250);
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

  it('matches the committed src/catalog/catalog.json (regenerate with npm run catalog:build)', () => {
    const committed = readFileSync(DEFAULT_OUT_FILE, 'utf8');
    const date = /"generated_on": "([^"]+)"/.exec(committed)?.[1] ?? '';
    expect(serializeCatalog(generateCatalog({ sourceDir: DEFAULT_SOURCE_DIR, generatedOn: date }))).toBe(committed);
  });
});
