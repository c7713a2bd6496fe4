// Runs the `switchyard` command as a child process, as a user would, and waits for its output.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';

const BIN = new URL('../../bin/switchyard.js', import.meta.url).pathname;
const running: ChildProcessWithoutNullStreams[] = [];

/** Kills every process `run` started that is still alive (call from afterEach). */
export function killAll(): void {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Run {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  waitFor: (text: string | RegExp, ms?: number) => Promise<string>;
  exit: Promise<number | null>;
}

export function run(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const env = { ...process.env, ...options.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY', 'AWS_ACCESS_KEY_ID', 'SWITCHYARD_CONFIG']) {
    if (!options.env?.[name]) delete env[name];
  }
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env });
  running.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (text: string | RegExp, ms = 15_000): Promise<string> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (typeof text === 'string' ? out.includes(text) : text.test(out)) return out;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${String(text)}; output:\n${out}`);
  };
  return { child, output: () => out, waitFor, exit };
}

