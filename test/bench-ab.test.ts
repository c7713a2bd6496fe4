// The A/B harness that docs/performance.md's optimisation rounds are measured with cannot rot: one
// short round of this checkout against its own HEAD. Timings are not asserted; that it runs both
// gateways, serves without failures, reports the ratios and removes its worktree is.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const hasWrk = ['/usr/bin/wrk', '/usr/local/bin/wrk'].some((p) => existsSync(p));
const hasGit = existsSync(join(ROOT, '.git'));
if (!hasWrk && process.env.CI) throw new Error('bench-ab: wrk is not installed, and CI is set: the A/B smoke run must run in CI.');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, 'bench/ab.bench.ts'), ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function abResult(stdout: string) {
  const line = stdout.split('\n').find((l) => l.startsWith('AB_JSON '));
  expect(line, stdout).toBeDefined();
  return JSON.parse((line as string).slice('AB_JSON '.length));
}

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
