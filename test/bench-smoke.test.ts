// The gateway benchmark cannot rot: a few seconds of it run with every test run, and the JSON it
// writes keeps its shape. Timings are not asserted (the machine decides those); correctness is:
// no failed requests and no usage record dropped.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench } from './bench-run.ts';

const hasWrk = ['/usr/bin/wrk', '/usr/local/bin/wrk'].some((p) => existsSync(p));
if (!hasWrk && process.env.CI) throw new Error('bench-smoke: wrk is not installed, and CI is set: the benchmark smoke run must run in CI.');
if (!hasWrk) console.warn('bench-smoke: wrk is not installed; skipping the benchmark smoke run');

const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-smoke-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runSmoke(): Promise<{ code: number | null; output: string }> {
  const { code, stdout, stderr } = await runBench('gateway.bench.ts', ['--smoke'], { BENCH_RESULTS_DIR: dir });
  return { code, output: stdout + stderr };
}

describe.skipIf(!hasWrk)('gateway benchmark, smoke run', () => {
  it('runs direct, null proxy and Switchyard for both payloads and writes the results JSON', { timeout: 60_000 }, async () => {
    const { code, output } = await runSmoke();
    expect(code, output).toBe(0);
    const result = JSON.parse(readFileSync(join(dir, 'gateway-smoke.json'), 'utf8'));
    expect(result.smoke).toBe(true);
    expect(result.cells).toHaveLength(6);
    for (const payload of ['non-streaming', 'streaming']) {
      for (const target of ['direct', 'null-proxy', 'switchyard']) {
        const cell = result.cells.find((c: { payload: string; target: string }) => c.payload === payload && c.target === target);
        expect(cell, `${payload} ${target}`).toBeDefined();
        expect(cell.requests).toBeGreaterThan(0);
        expect(cell.errors).toBe(0);
        for (const field of ['rps', 'p50Ms', 'p90Ms', 'p99Ms']) expect(typeof cell[field]).toBe('number');
        if (target !== 'direct') {
          expect(cell.cpuMsPerReq).toBeGreaterThan(0);
          expect(cell.peakRssMb).toBeGreaterThan(0);
          expect(typeof cell.addedP50Ms).toBe('number');
        }
        if (payload === 'streaming') expect(typeof cell.ttfbP50Ms).toBe('number');
      }
    }
    expect(result.ratios).toHaveLength(2);
    for (const target of ['null-proxy', 'switchyard']) {
      for (const field of ['p50Ms', 'p99Ms', 'streamTtfbP50Ms']) expect(typeof result.unloaded.added[target][field]).toBe('number');
      for (const kind of ['nonStreaming', 'streaming']) expect(typeof result.unloaded.cpuMsPerReq[target][kind]).toBe('number');
    }
    // Every request the gateway served left its usage record.
    expect(result.usage.served).toBeGreaterThan(0);
    expect(result.usage.dropped).toBe(0);
    expect(result.usage.recorded).toBeGreaterThanOrEqual(result.usage.served);
    expect(result.targets.map((t: { target: string }) => t.target)).toContain('gateway CPU per non-streaming request');
    // Each timing and memory target also reports what the null proxy alone measures against it.
    const floors = Object.fromEntries(result.targets.map((t: { target: string; floor?: number }) => [t.target, t.floor]));
    expect(floors['gateway CPU per non-streaming request']).toBeGreaterThan(0);
    expect(floors['peak RSS under load']).toBeGreaterThan(0);
    expect(floors['added latency unloaded p50']).toBe(result.unloaded.added['null-proxy'].p50Ms);
    // Repeated runs after the cells: an RSS reading for each, and a growth verdict.
    expect(result.repeatedRssMb).toHaveLength(2);
    for (const mb of result.repeatedRssMb) expect(mb).toBeGreaterThan(0);
    expect(result.targets.map((t: { target: string }) => t.target)).toContain('RSS growth across repeated runs (second half over first)');
    expect(readFileSync(join(dir, 'gateway-smoke.md'), 'utf8')).toContain('| switchyard |');
  });
});
