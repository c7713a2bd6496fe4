// The usage-writer benchmark (docs/performance.md, round 9) cannot rot: a short run of both writers.
// Timings are not asserted; that both stored every record and reported their readings is.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

describe('usage-writer benchmark, smoke run', () => {
  it('runs both writers over the same traffic and reports their readings', { timeout: 60_000 }, async () => {
    const results = mkdtempSync(join(tmpdir(), 'sy-writer-bench-'));
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, 'bench/usage-writer.bench.ts')], {
        env: { ...process.env, BENCH_RATE: '400', BENCH_SECONDS: '0.5', BENCH_RESULTS_DIR: results },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    expect(code, stderr).toBe(0);
    const line = stdout.split('\n').find((l) => l.startsWith('USAGE_WRITER_JSON '));
    const runs = JSON.parse((line as string).slice('USAGE_WRITER_JSON '.length)) as Array<{ mode: string; written: number; cpuUsPerRecord: number }>;
    expect(runs.map((r) => r.mode).sort()).toEqual(['rollups per batch, round 1', 'rollups per batch, round 2', 'rollups per interval, round 1', 'rollups per interval, round 2']);
    for (const run of runs) {
      expect(run.written).toBe(200);
      expect(run.cpuUsPerRecord).toBeGreaterThan(0);
    }
    expect(readFileSync(join(results, 'usage-writer-latest.md'), 'utf8')).toContain('Rollups per interval / per batch');
  });
});
