// The instruction-count benchmark cannot rot: a short run under callgrind (a few hundred requests,
// barely warmed up, so the count itself means nothing here) must produce a positive count per request
// with no failed request.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const hasValgrind = ['/usr/bin/callgrind_control', '/usr/local/bin/callgrind_control'].some((p) => existsSync(p));
if (!hasValgrind && process.env.CI) throw new Error('bench-instructions: valgrind is not installed, and CI is set: the smoke run must run in CI.');
if (!hasValgrind) console.warn('bench-instructions: valgrind is not installed; skipping the instruction-count smoke run');

describe.skipIf(!hasValgrind)('instruction-count benchmark, smoke run', () => {
  it('counts the gateway instructions per request under callgrind', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, 'bench/instructions.bench.ts'), '--warm', '200', '--requests', '50']);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
    });
    expect(code, stderr).toBe(0);
    const line = stdout.split('\n').find((l) => l.startsWith('INSTR_JSON '));
    expect(line, stdout).toBeDefined();
    const result = JSON.parse((line as string).slice('INSTR_JSON '.length));
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
