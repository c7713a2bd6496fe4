// The usage-writer benchmark (docs/performance.md, round 9) cannot rot: a short run of both writers.
// Timings are not asserted; that both stored every record and reported their readings is.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchJson, runBench } from './bench-run.ts';

describe('usage-writer benchmark, smoke run', () => {
  it('runs both writers over the same traffic and reports their readings', { timeout: 60_000 }, async () => {
    const results = mkdtempSync(join(tmpdir(), 'sy-writer-bench-'));
    const { code, stdout, stderr } = await runBench('usage-writer.bench.ts', [], { BENCH_RATE: '400', BENCH_SECONDS: '0.5', BENCH_RESULTS_DIR: results });
    expect(code, stderr).toBe(0);
    const runs = benchJson<Array<{ mode: string; written: number; cpuUsPerRecord: number }>>(stdout, 'USAGE_WRITER_JSON');
    expect(runs.map((r) => r.mode).sort()).toEqual(['rollups per batch, round 1', 'rollups per batch, round 2', 'rollups per interval, round 1', 'rollups per interval, round 2']);
    for (const run of runs) {
      expect(run.written).toBe(200);
      expect(run.cpuUsPerRecord).toBeGreaterThan(0);
    }
    expect(readFileSync(join(results, 'usage-writer-latest.md'), 'utf8')).toContain('Rollups per interval / per batch');
  });
});
