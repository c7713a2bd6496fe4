// The A/B harness that docs/performance.md's optimisation rounds are measured with cannot rot: one
// short round of this checkout against its own HEAD. Timings are not asserted; that it runs both
// gateways, serves without failures, reports the ratios and removes its worktree is.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchJson, runBench, type BenchRun } from './bench-run.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const hasWrk = ['/usr/bin/wrk', '/usr/local/bin/wrk'].some((p) => existsSync(p));
const hasGit = existsSync(join(ROOT, '.git'));
if (!hasWrk && process.env.CI) throw new Error('bench-ab: wrk is not installed, and CI is set: the A/B smoke run must run in CI.');

const run = (args: string[]): Promise<BenchRun> => runBench('ab.bench.ts', args);

interface AbResult {
  rounds: number;
  errors: number;
  perRound: Array<{ a: { rps: number }; b: { rps: number } }>;
  cpuRatio: { median: number };
  rpsRatio: { median: number };
}

const abResult = (stdout: string): AbResult => benchJson<AbResult>(stdout, 'AB_JSON');

describe.skipIf(!hasWrk)('A/B harness, smoke run', () => {
  it('runs a base checkout and this one side by side and reports B/A ratios', { timeout: 90_000 }, async () => {
    const { code, stdout, stderr } = await run(['--base', ROOT, '--rounds', '1', '--seconds', '1', '--connections', '5']);
    expect(code, stderr).toBe(0);
    const result = abResult(stdout);
    expect(result.rounds).toBe(1);
    expect(result.errors).toBe(0);
    expect(result.perRound[0].a.rps).toBeGreaterThan(0);
    expect(result.perRound[0].b.rps).toBeGreaterThan(0);
    expect(result.cpuRatio.median).toBeGreaterThan(0);
    expect(result.rpsRatio.median).toBeGreaterThan(0);
  });

  it.skipIf(!hasGit)('checks a revision out into a temporary worktree and removes it afterwards', { timeout: 90_000 }, async () => {
    const { code, stdout, stderr } = await run(['--base', 'HEAD', '--rounds', '1', '--seconds', '1', '--connections', '5']);
    expect(code, stderr).toBe(0);
    expect(abResult(stdout).errors).toBe(0);
    expect(execFileSync('git', ['-C', ROOT, 'worktree', 'list']).toString()).not.toContain('switchyard-ab-');
  });

  it('refuses to run without a base', async () => {
    const { code, stderr } = await run([]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('--base');
  });
});
