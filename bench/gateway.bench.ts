// Gateway vs direct, against the zero-latency OpenAI simulator, in one run. The simulator and the
// gateway run as child processes (so the gateway's CPU time can be read from /proc); autocannon
// drives the load from this process.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '50').split(',').map(Number);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 400);
const SIM_PORT = 19101;
const GW_PORT = 19102;
const KEY = 'sk-sy-bench';
const ROOT = new URL('..', import.meta.url).pathname;

interface Row {
  scenario: string;
  target: 'direct' | 'gateway';
  connections: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  gatewayCpuMsPerReq?: number;
}

function child(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'bin/switchyard.js'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function waitFor(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(url, { headers });
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

// A ~1 KB request.
const body = JSON.stringify({
  model: 'gpt-4o-mini',
  max_tokens: 200,
  messages: [
    { role: 'system', content: 'You are a helpful assistant that answers concisely and accurately. '.repeat(4) },
    { role: 'user', content: 'Summarise the following text in two sentences. '.repeat(12) },
  ],
});
const streamBody = JSON.stringify({ ...JSON.parse(body), stream: true, stream_options: { include_usage: true } });

async function load(url: string, payload: string, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections,
    duration: DURATION,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: payload,
  });
}

async function sequential(url: string, payload: string, n: number): Promise<number[]> {
  const { request } = await import('undici');
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: payload });
    await res.body.text();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const config = join(dir, 'bench.yaml');
  writeFileSync(
    config,
    `server: { master_key: ${KEY}, port: ${GW_PORT} }
storage: { sqlite: ${join(dir, 'bench.db')} }
providers: [ { name: sim, type: openai, base_url: "http://127.0.0.1:${SIM_PORT}/v1", api_key: k } ]
models: [ { name: gpt-4o-mini, deployments: [ { provider: sim, model: gpt-4o-mini } ] } ]
`,
  );
  // ~1.7 KB non-streaming response; 50 content chunks when streaming.
  const sim = child(['simulate', '--format', 'openai', '--port', String(SIM_PORT), '--output-tokens', '50']);
  const gateway = child(['serve', '--config', config]);
  try {
    await waitFor(`http://127.0.0.1:${SIM_PORT}/v1/models`);
    await waitFor(`http://127.0.0.1:${GW_PORT}/health/ready`);
    const direct = `http://127.0.0.1:${SIM_PORT}/v1/chat/completions`;
    const viaGateway = `http://127.0.0.1:${GW_PORT}/v1/chat/completions`;
    await load(viaGateway, body, 10); // warm-up (JIT, pools)

    const rows: Row[] = [];
    for (const [scenario, payload] of [
      ['non-streaming', body],
      ['streaming (50 chunks + usage)', streamBody],
    ] as const) {
      for (const connections of CONNECTIONS) {
        for (const target of ['direct', 'gateway'] as const) {
          const before = cpuMs(gateway.pid!);
          const result = await load(target === 'direct' ? direct : viaGateway, payload, connections);
          const spent = cpuMs(gateway.pid!) - before;
          const row: Row = {
            scenario,
            target,
            connections,
            rps: Math.round(result.requests.average),
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            errors: result.errors + result.non2xx,
          };
          if (target === 'gateway') row.gatewayCpuMsPerReq = Number((spent / Math.max(1, result.requests.total)).toFixed(4));
          rows.push(row);
        }
      }
    }
    const seqDirect = await sequential(direct, body, SEQUENTIAL);
    const seqGateway = await sequential(viaGateway, body, SEQUENTIAL);
    const unloaded = {
      requests: SEQUENTIAL,
      direct: { p50: pct(seqDirect, 0.5), p99: pct(seqDirect, 0.99) },
      gateway: { p50: pct(seqGateway, 0.5), p99: pct(seqGateway, 0.99) },
      addedP50Ms: pct(seqGateway, 0.5) - pct(seqDirect, 0.5),
      addedP99Ms: pct(seqGateway, 0.99) - pct(seqDirect, 0.99),
    };
    report(rows, unloaded);
  } finally {
    gateway.kill('SIGTERM');
    sim.kill('SIGTERM');
  }
}

function report(rows: Row[], unloaded: Record<string, unknown> & { addedP50Ms: number; addedP99Ms: number }): void {
  const date = new Date().toISOString();
  const lines = [
    `# Gateway vs direct (${date})`,
    '',
    `Duration ${DURATION}s per cell, OpenAI simulator with zero latency, gateway with SQLite usage recording.`,
    '',
    '| scenario | target | conns | req/s | p50 ms | p90 ms | p99 ms | errors | gateway CPU ms/req | gateway/direct req/s |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const direct = rows.find((r) => r.scenario === row.scenario && r.connections === row.connections && r.target === 'direct');
    const ratio = row.target === 'gateway' && direct ? (row.rps / direct.rps).toFixed(2) : '';
    lines.push(
      `| ${row.scenario} | ${row.target} | ${row.connections} | ${row.rps} | ${row.p50} | ${row.p90} | ${row.p99} | ${row.errors} | ${row.gatewayCpuMsPerReq ?? ''} | ${ratio} |`,
    );
  }
  lines.push('', `Unloaded, sequential (${SEQUENTIAL} requests): added p50 ${unloaded.addedP50Ms.toFixed(3)} ms, added p99 ${unloaded.addedP99Ms.toFixed(3)} ms.`, '');
  const markdown = lines.join('\n');
  process.stdout.write(`${markdown}\n`);
  writeFileSync(join(ROOT, 'bench/results', 'gateway-latest.md'), markdown);
  writeFileSync(join(ROOT, 'bench/results', 'gateway-latest.json'), JSON.stringify({ date, duration: DURATION, rows, unloaded }, null, 2));
}

await main();
