// Shared by the soak and durability suites: simulators, a config file, the gateway as a child process
// (`switchyard serve` semantics: SQLite store, signals), and a steady load generator.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { createSimulator, type SimServer } from '../../src/sim/index.ts';
import { freePort } from '../support/process.ts';

export const MASTER = 'sk-sy-soak-master-key';
const CHILD = new URL('./gateway-child.ts', import.meta.url).pathname;
const RUN_TS = new URL('../../bin/run-ts.js', import.meta.url).pathname;

export interface Stack {
  dir: string;
  dbPath: string;
  configPath: string;
  sims: SimServer[];
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-soak-'));
  const openai = createSimulator('openai', { outputTokens: 24, tokensPerSecond: 400, errorRates: { 500: 0.02 }, seed: 11 });
  const anthropic = createSimulator('anthropic', { outputTokens: 24, tokensPerSecond: 400, midStreamAbortRate: 0.01, seed: 12 });
  await openai.listen();
  await anthropic.listen();
  const dbPath = join(dir, 'switchyard.db');
  const configPath = join(dir, 'switchyard.yaml');
  writeFileSync(
    configPath,
    `server: { master_key: "${MASTER}" }
storage: { sqlite: ${dbPath} }
routing: { retries: { max_retries: 1, base_delay_ms: 5, max_delay_ms: 20 } }
providers:
  - { name: sim-openai, type: openai, base_url: "${openai.url}/v1", api_key: sim }
  - { name: sim-anthropic, type: anthropic, base_url: "${anthropic.url}", api_key: sim }
models:
  - { name: gpt-4o-mini, fallbacks: [claude], deployments: [ { provider: sim-openai, model: gpt-4o-mini } ] }
  - { name: claude, deployments: [ { provider: sim-anthropic, model: claude-haiku-4-5 } ] }
`,
  );
  return {
    dir,
    dbPath,
    configPath,
    sims: [openai, anthropic],
    async close() {
      await openai.close();
      await anthropic.close();
    },
  };
}

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exit: Promise<number | null>;
  /** Heap and RSS after a full GC (needs `withMemory`). */
  memory(): Promise<{ heapUsed: number; rss: number }>;
}

export async function startGateway(stack: Stack, options: { withMemory?: boolean } = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const args = options.withMemory ? ['--expose-gc', RUN_TS, CHILD, stack.configPath, String(port)] : [RUN_TS, CHILD, stack.configPath, String(port)];
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY', 'AWS_ACCESS_KEY_ID', 'SWITCHYARD_CONFIG', 'SWITCHYARD_MASTER_KEY']) delete env[name];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!out.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`gateway did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exit,
    memory: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as { heapUsed: number; rss: number }));
        child.send('memory');
      }),
  };
}

export interface Acknowledged {
  requestId: string;
  status: number;
  /** performance.now() when the whole response had arrived. */
  at: number;
}

const BODIES = [
  { path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'steady load, unary' }] } },
  { path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'steady load, stream' }] } },
  { path: '/v1/messages', body: { model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'steady load, anthropic' }] } },
  { path: '/v1/messages', body: { model: 'gpt-4o-mini', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'steady load, translated stream' }] } },
  { path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: 'not a list' } },
].map((b) => ({ path: b.path, body: JSON.stringify(b.body) }));

/**
 * Steady load: `concurrency` workers, each sending the mix in turn with `pauseMs` between requests,
 * until `stop()` resolves true. Every completed response is reported.
 */
export async function steadyLoad(url: string, concurrency: number, pauseMs: number, stop: () => boolean, onResponse: (ack: Acknowledged) => void): Promise<{ sent: number; failed: number }> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  let sent = 0;
  let failed = 0;
  const worker = async (w: number): Promise<void> => {
    for (let i = w; !stop(); i++) {
      const { path, body } = BODIES[i % BODIES.length];
      sent++;
      try {
        const res = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}` }, headersTimeout: 30_000, bodyTimeout: 30_000 });
        await res.body.text();
        onResponse({ requestId: String(res.headers['x-switchyard-request-id']), status: res.statusCode, at: performance.now() });
      } catch {
        failed++;
      }
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  await pool.close().catch(() => undefined);
  return { sent, failed };
}

export const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
