// The instruction-count benchmark cannot rot: a short run under callgrind (a few hundred requests,
// barely warmed up, so the count itself means nothing here) must produce a positive count per request
// with no failed request.
import { existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchJson, runBench } from './bench-run.ts';
const hasValgrind = ['/usr/bin/callgrind_control', '/usr/local/bin/callgrind_control'].some((p) => existsSync(p));
if (!hasValgrind && process.env.CI) throw new Error('bench-instructions: valgrind is not installed, and CI is set: the smoke run must run in CI.');
if (!hasValgrind) console.warn('bench-instructions: valgrind is not installed; skipping the instruction-count smoke run');

describe.skipIf(!hasValgrind)('instruction-count benchmark, smoke run', () => {
  it('counts the gateway instructions per request under callgrind', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runBench('instructions.bench.ts', ['--warm', '200', '--requests', '50']);
    expect(code, stderr).toBe(0);
    const result = benchJson<{ requests: number; failed: number; instructionsPerRequest: number; restPerRequest: number; gcPerRequest: number; compilePerRequest: number; dump: string }>(stdout, 'INSTR_JSON');
    expect(result.requests).toBe(50);
    expect(result.failed).toBe(0);
    expect(result.instructionsPerRequest).toBeGreaterThan(10_000);
    // The split covers every instruction counted (each part rounded per request).
    expect(result.restPerRequest).toBeGreaterThan(0);
    expect(Math.abs(result.gcPerRequest + result.compilePerRequest + result.restPerRequest - result.instructionsPerRequest)).toBeLessThanOrEqual(2);
    expect(existsSync(result.dump)).toBe(true);
    rmSync(dirname(result.dump), { recursive: true, force: true });
  });
});
