// What the gateway benchmarks share: the payloads, the gateway's config, pinned child processes, and
// the /proc and wrk readings. The gateway and the proxies run on core 0; the simulator, wrk and the
// benchmark itself on core 1 (with taskset and two or more cores; BENCH_PIN=0 turns pinning off).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname;
export const KEY = 'sk-sy-bench-virtual-key-0123456789';
export const MASTER = 'sk-sy-bench-master-0123456789';
export const PIN = existsSync('/usr/bin/taskset') && cpus().length >= 2 && process.env.BENCH_PIN !== '0';
export const GATEWAY_CORE = '0';
export const LOAD_CORE = '1';

/**
 * The gateway as the benchmark deploys it: governance on, with a team and a virtual key that each
 * carry a monthly budget and rpm/tpm/concurrency limits too high to trigger; usage to SQLite.
 */
export function gatewayConfig({ port, db, simPort }: { port: number; db: string; simPort: number }): string {
  const huge = '{ rpm: 100000000, tpm: 1000000000000, max_concurrency: 100000 }';
  return `server: { master_key: ${MASTER}, port: ${port}, host: 127.0.0.1 }
storage: { sqlite: ${db} }
providers: [ { name: sim, type: openai, base_url: "http://127.0.0.1:${simPort}/v1", api_key: k } ]
models: [ { name: gpt-4o-mini, deployments: [ { provider: sim, model: gpt-4o-mini } ] } ]
teams: [ { name: bench, budget: { max_usd: 1000000000, period: monthly }, limits: ${huge} } ]
keys: [ { name: bench, team: bench, key: ${KEY}, budget: { max_usd: 1000000000, period: monthly }, limits: ${huge} } ]
`;
}

// A ~1 KB request. The simulator writes 230 tokens unless max_tokens caps it: the plain request
// (max_tokens 256) gets a ~1.75 KB body, the streamed one (max_tokens 50) 50 content chunks, a
// finish chunk and a usage chunk.
export const BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  max_tokens: 256,
  messages: [
    { role: 'system', content: 'You are a helpful assistant that answers concisely and accurately. '.repeat(4) },
    { role: 'user', content: 'Summarise the following text in two sentences. '.repeat(12) },
  ],
});
export const STREAM_BODY = JSON.stringify({ ...JSON.parse(BODY), max_tokens: 50, stream: true, stream_options: { include_usage: true } });

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function pinned(core: string, args: string[]): [string, string[]] {
  return PIN ? ['taskset', ['-c', core, process.execPath, ...args]] : [process.execPath, args];
}

export function child(core: string, args: string[]): ChildProcess {
  const [cmd, argv] = pinned(core, args);
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  return proc;
}

/** Polls until `url` answers below 500; `attempts` × 50 ms at most (a gateway under valgrind starts slowly). */
export async function waitFor(url: string, attempts = 300): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of a process (all its threads), in ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

export function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** Resets the peak-RSS mark so each cell reports its own peak. */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    /* not permitted here: the peak then covers the run so far */
  }
}

export interface WrkResult {
  requests: number;
  duration_us: number;
  errors: number;
  non2xx: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
}

export function wrk(url: string, bodyFile: string, connections: number, seconds: number): Promise<WrkResult> {
  const [cmd, argv] = PIN
    ? ['taskset', ['-c', LOAD_CORE, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '-s', join(ROOT, 'bench/wrk-post.lua'), url]]
    : ['wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', join(ROOT, 'bench/wrk-post.lua'), url]];
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, argv, { env: { ...process.env, BENCH_BODY_FILE: bodyFile, BENCH_KEY: KEY } });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('error', reject);
    proc.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (!line) reject(new Error(`wrk printed no result:\n${out}`));
      else resolve(JSON.parse(line.slice('WRK_JSON '.length)) as WrkResult);
    });
  });
}
