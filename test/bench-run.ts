// How the benchmark smoke tests run a script under bench/: as `npm run bench:*` does, in a child
// process, and read the one `PREFIX_JSON {…}` line it prints.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

export interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runBench(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<BenchRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, 'bench', script), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The JSON a benchmark printed after `prefix` (e.g. `AB_JSON`); fails the test when it printed none. */
export function benchJson<T = Record<string, unknown>>(stdout: string, prefix: string): T {
  const line = stdout.split('\n').find((l) => l.startsWith(`${prefix} `));
  expect(line, stdout).toBeDefined();
  return JSON.parse((line as string).slice(prefix.length + 1)) as T;
}
