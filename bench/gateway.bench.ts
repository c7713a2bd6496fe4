// Switchyard against a null proxy and against the simulator directly, in one run (issue #8).
//
// Processes: the zero-latency OpenAI simulator, the null proxy (node:http + undici Pool, bytes in →
// bytes out: the floor for Node) and the gateway with governance on (a virtual key with a budget and
// rate limits too high to trigger, usage recorded to SQLite, default metrics). The gateway and the
// null proxy are pinned to core 0; the simulator, wrk and this process to core 1. Gateway CPU per
// request comes from /proc/<pid>/stat, peak RSS from VmHWM (reset before each cell).
//
//   npm run bench:gateway            full run (8 s per cell, 50 and 200 connections)
//   … bench/gateway.bench.ts --smoke a few seconds, for CI: checks the machinery, asserts nothing
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'undici';
import { BODY, child, cpuMs, freePort, GATEWAY_CORE, gatewayConfig, KEY, LOAD_CORE, PIN, resetPeakRss, ROOT, statusKb, STREAM_BODY, waitFor, wrk } from './harness.ts';

const SMOKE = process.argv.includes('--smoke');
const DURATION = Number(process.env.BENCH_DURATION ?? (SMOKE ? 1 : 8));
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? (SMOKE ? '10' : '50,200')).split(',').map(Number);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? (SMOKE ? 30 : 1000));
/** Repeated non-streaming runs at the highest connection count, RSS read after each: does memory hold? */
const REPEATS = Number(process.env.BENCH_REPEATS ?? (SMOKE ? 2 : 6));
/** The repeated runs' second half may average this much more RSS than their first and still count as held. */
const RSS_GROWTH_TOLERANCE = 0.05;
const RESULTS = process.env.BENCH_RESULTS_DIR ?? (SMOKE ? mkdtempSync(join(tmpdir(), 'switchyard-bench-smoke-')) : join(ROOT, 'bench/results'));
const NAME = SMOKE ? 'gateway-smoke' : 'gateway-latest';

type Target = 'direct' | 'null-proxy' | 'switchyard';
type Payload = 'non-streaming' | 'streaming';

export interface Cell {
  payload: Payload;
  connections: number;
  target: Target;
  rps: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Latency minus the direct run's at the same percentile and load. */
  addedP50Ms?: number;
  addedP99Ms?: number;
  /** Streams: time to first byte of a probe client running beside the load. */
  ttfbP50Ms?: number;
  ttfbP99Ms?: number;
  /** The proxy process (gateway or null proxy): CPU ms per request served, peak RSS. */
  cpuMsPerReq?: number;
  peakRssMb?: number;
}

interface Timing {
  totalMs: number;
  ttfbMs: number;
  ok: boolean;
}

/** One request on a keep-alive client: time to the first body byte and to the end. */
async function timed(client: Client, path: string, body: string): Promise<Timing> {
  const start = performance.now();
  const res = await client.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } });
  let ttfbMs = 0;
  for await (const chunk of res.body) {
    if (ttfbMs === 0 && (chunk as Buffer).length > 0) ttfbMs = performance.now() - start;
  }
  return { totalMs: performance.now() - start, ttfbMs, ok: res.statusCode === 200 };
}

/** Sequential stream requests beside the load, until `stop` resolves. */
async function probe(origin: string, stop: Promise<void>): Promise<number[]> {
  const client = new Client(origin);
  const ttfb: number[] = [];
  let done = false;
  void stop.then(() => (done = true));
  try {
    while (!done) ttfb.push((await timed(client, '/v1/chat/completions', STREAM_BODY)).ttfbMs);
  } finally {
    await client.close();
  }
  return ttfb.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]);
const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

interface Procs {
  sim: ChildProcess;
  nullProxy: ChildProcess;
  gateway: ChildProcess;
  origins: Record<Target, string>;
  db: string;
}

async function start(dir: string): Promise<Procs> {
  const [simPort, nullPort, gwPort] = [await freePort(), await freePort(), await freePort()];
  const db = join(dir, 'bench.db');
  const config = join(dir, 'bench.yaml');
  writeFileSync(config, gatewayConfig({ port: gwPort, db, simPort }));
  const sim = child(LOAD_CORE, [join(ROOT, 'bin/switchyard.js'), 'simulate', '--format', 'openai', '--port', String(simPort), '--output-tokens', '230']);
  const nullProxy = child(GATEWAY_CORE, [join(ROOT, 'bin/run-ts.js'), join(ROOT, 'bench/null-proxy.ts'), String(nullPort), `http://127.0.0.1:${simPort}`]);
  const gateway = child(GATEWAY_CORE, [join(ROOT, 'bin/switchyard.js'), 'serve', '--config', config]);
  const origins: Record<Target, string> = {
    direct: `http://127.0.0.1:${simPort}`,
    'null-proxy': `http://127.0.0.1:${nullPort}`,
    switchyard: `http://127.0.0.1:${gwPort}`,
  };
  await waitFor(`${origins.direct}/v1/models`);
  await waitFor(`${origins['null-proxy']}/health`);
  await waitFor(`${origins.switchyard}/health/ready`);
  return { sim, nullProxy, gateway, origins, db };
}

function stopped(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const bodyFile = join(dir, 'body.json');
  const streamFile = join(dir, 'stream.json');
  writeFileSync(bodyFile, BODY);
  writeFileSync(streamFile, STREAM_BODY);
  const procs = await start(dir);
  const pidOf: Partial<Record<Target, number>> = { 'null-proxy': procs.nullProxy.pid, switchyard: procs.gateway.pid };
  let served = 0;
  try {
    // Warm-up: JIT, pools, the key cache.
    for (const target of ['null-proxy', 'switchyard'] as const) {
      for (const file of SMOKE ? [bodyFile] : [bodyFile, streamFile]) {
        const r = await wrk(`${procs.origins[target]}/v1/chat/completions`, file, 20, SMOKE ? 1 : 2);
        if (target === 'switchyard') served += r.requests;
      }
    }

    const cells: Cell[] = [];
    const rssAfter: Record<string, number[]> = { 'null-proxy': [], switchyard: [] };
    for (const payload of ['non-streaming', 'streaming'] as const) {
      for (const connections of CONNECTIONS) {
        for (const target of ['direct', 'null-proxy', 'switchyard'] as const) {
          const pid = pidOf[target];
          if (pid) resetPeakRss(pid);
          const before = pid ? cpuMs(pid) : 0;
          let release = (): void => undefined;
          const stop = new Promise<void>((r) => (release = r));
          const probing = payload === 'streaming' ? probe(procs.origins[target], stop) : Promise.resolve([]);
          const result = await wrk(`${procs.origins[target]}/v1/chat/completions`, payload === 'streaming' ? streamFile : bodyFile, connections, DURATION);
          release();
          const ttfb = await probing;
          const requests = result.requests + ttfb.length;
          if (target === 'switchyard') served += requests - result.non2xx;
          const cell: Cell = {
            payload,
            connections,
            target,
            rps: Math.round(result.requests / (result.duration_us / 1e6)),
            requests: result.requests,
            errors: result.errors + result.non2xx,
            p50Ms: round(result.p50_us / 1000),
            p90Ms: round(result.p90_us / 1000),
            p99Ms: round(result.p99_us / 1000),
          };
          if (payload === 'streaming') {
            cell.ttfbP50Ms = round(pct(ttfb, 0.5));
            cell.ttfbP99Ms = round(pct(ttfb, 0.99));
          }
          if (pid) {
            cell.cpuMsPerReq = round((cpuMs(pid) - before) / Math.max(1, requests), 4);
            cell.peakRssMb = round(statusKb(pid, 'VmHWM') / 1024, 1);
            rssAfter[target].push(round(statusKb(pid, 'VmRSS') / 1024, 1));
          }
          const direct = cells.find((c) => c.payload === payload && c.connections === connections && c.target === 'direct');
          if (direct && target !== 'direct') {
            cell.addedP50Ms = round(cell.p50Ms - direct.p50Ms);
            cell.addedP99Ms = round(cell.p99Ms - direct.p99Ms);
          }
          cells.push(cell);
          process.stderr.write(`${JSON.stringify(cell)}\n`);
        }
      }
    }

    const unloaded = await sequentialRuns(procs.origins, { 'null-proxy': procs.nullProxy.pid!, switchyard: procs.gateway.pid! });
    served += unloaded.requestsPerTarget;
    const repeatedRssMb: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const result = await wrk(`${procs.origins.switchyard}/v1/chat/completions`, bodyFile, Math.max(...CONNECTIONS), DURATION);
      served += result.requests - result.non2xx;
      repeatedRssMb.push(round(statusKb(procs.gateway.pid!, 'VmRSS') / 1024, 1));
    }
    await stopped(procs.gateway);
    const usage = countUsage(procs.db, served);
    report({ cells, unloaded, usage, rssAfterCellsMb: rssAfter, repeatedRssMb });
  } finally {
    await Promise.all([stopped(procs.gateway), stopped(procs.nullProxy), stopped(procs.sim)]);
  }
}

interface Unloaded {
  requests: number;
  requestsPerTarget: number;
  targets: Record<Target, { p50Ms: number; p99Ms: number; streamTtfbP50Ms: number; streamTtfbP99Ms: number }>;
  added: Record<'null-proxy' | 'switchyard', { p50Ms: number; p99Ms: number; streamTtfbP50Ms: number }>;
  /** CPU per request one at a time (no batching across requests): less sensitive to a busy machine. */
  cpuMsPerReq: Record<'null-proxy' | 'switchyard', { nonStreaming: number; streaming: number }>;
}

/**
 * One keep-alive connection, one request at a time, targets interleaved so drift hits all alike;
 * non-streaming requests first, then streams, with the proxies' CPU read around each phase.
 */
async function sequentialRuns(origins: Record<Target, string>, pids: Record<'null-proxy' | 'switchyard', number>): Promise<Unloaded> {
  const targets = ['direct', 'null-proxy', 'switchyard'] as const;
  const clients = targets.map((t) => new Client(origins[t]));
  const plain: number[][] = targets.map(() => []);
  const ttfb: number[][] = targets.map(() => []);
  const cpu = { 'null-proxy': { nonStreaming: 0, streaming: 0 }, switchyard: { nonStreaming: 0, streaming: 0 } };
  let ok = 0;
  try {
    for (const phase of ['nonStreaming', 'streaming'] as const) {
      const body = phase === 'streaming' ? STREAM_BODY : BODY;
      for (let i = 0; i < 20; i++) {
        for (let t = 0; t < targets.length; t++) if ((await timed(clients[t], '/v1/chat/completions', body)).ok && t === 2) ok++; // warm-up
      }
      const before = { 'null-proxy': cpuMs(pids['null-proxy']), switchyard: cpuMs(pids.switchyard) };
      for (let i = 0; i < SEQUENTIAL; i++) {
        for (let t = 0; t < targets.length; t++) {
          const r = await timed(clients[t], '/v1/chat/completions', body);
          if (t === 2 && r.ok) ok++;
          if (phase === 'streaming') ttfb[t].push(r.ttfbMs);
          else plain[t].push(r.totalMs);
        }
      }
      for (const target of ['null-proxy', 'switchyard'] as const) cpu[target][phase] = round((cpuMs(pids[target]) - before[target]) / SEQUENTIAL, 4);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  for (const list of [...plain, ...ttfb]) list.sort((a, b) => a - b);
  const summary = (t: number) => ({
    p50Ms: round(pct(plain[t], 0.5)),
    p99Ms: round(pct(plain[t], 0.99)),
    streamTtfbP50Ms: round(pct(ttfb[t], 0.5)),
    streamTtfbP99Ms: round(pct(ttfb[t], 0.99)),
  });
  const added = (t: number) => ({
    p50Ms: round(pct(plain[t], 0.5) - pct(plain[0], 0.5)),
    p99Ms: round(pct(plain[t], 0.99) - pct(plain[0], 0.99)),
    streamTtfbP50Ms: round(pct(ttfb[t], 0.5) - pct(ttfb[0], 0.5)),
  });
  return {
    requests: SEQUENTIAL,
    requestsPerTarget: ok,
    targets: { direct: summary(0), 'null-proxy': summary(1), switchyard: summary(2) },
    added: { 'null-proxy': added(1), switchyard: added(2) },
    cpuMsPerReq: cpu,
  };
}

interface UsageCount {
  /** Successful requests the load generators saw completed through the gateway. */
  served: number;
  /** Rows in usage_records with status 200 (≥ served: wrk abandons requests in flight when it stops). */
  recorded: number;
  recordedTotal: number;
  dropped: number;
}

function countUsage(path: string, served: number): UsageCount {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare('SELECT count(*) AS total, coalesce(sum(status = 200), 0) AS ok FROM usage_records').get() as { total: number; ok: number };
    return { served, recorded: row.ok, recordedTotal: row.total, dropped: Math.max(0, served - row.ok) };
  } finally {
    db.close();
  }
}

interface Report {
  cells: Cell[];
  unloaded: Unloaded;
  usage: UsageCount;
  rssAfterCellsMb: Record<string, number[]>;
  /** Switchyard's RSS after each of the repeated non-streaming runs that follow everything else. */
  repeatedRssMb: number[];
}

function report({ cells, unloaded, usage, rssAfterCellsMb, repeatedRssMb }: Report): void {
  const date = new Date().toISOString();
  const find = (payload: Payload, connections: number, target: Target) => cells.find((c) => c.payload === payload && c.connections === connections && c.target === target);
  const ratios: Array<{ payload: Payload; connections: number; rps: number; cpuPerReq: number }> = [];
  for (const payload of ['non-streaming', 'streaming'] as const) {
    for (const connections of CONNECTIONS) {
      const sy = find(payload, connections, 'switchyard');
      const np = find(payload, connections, 'null-proxy');
      if (!sy || !np) continue;
      ratios.push({
        payload,
        connections,
        rps: round(sy.rps / Math.max(1, np.rps), 2),
        cpuPerReq: round((sy.cpuMsPerReq ?? 0) / Math.max(1e-9, np.cpuMsPerReq ?? 0), 2),
      });
    }
  }
  const maxCpu = (payload: Payload, target: Target = 'switchyard') => Math.max(...CONNECTIONS.map((c) => find(payload, c, target)?.cpuMsPerReq ?? 0));
  const rps50 = (payload: Payload) => ratios.find((r) => r.payload === payload && r.connections === (CONNECTIONS.includes(50) ? 50 : CONNECTIONS[0]))?.rps ?? 0;
  const peakRss = (target: Target = 'switchyard') => Math.max(...cells.filter((c) => c.target === target).map((c) => c.peakRssMb ?? 0));
  const rssSeries = rssAfterCellsMb.switchyard;
  const { switchyard: added, 'null-proxy': nullAdded } = unloaded.added;
  // The repeated runs come after every cell, when the bounded memories are full: mean RSS of their second
  // half over their first (means, because a single reading moves with where the GC happened to be).
  const half = Math.floor(repeatedRssMb.length / 2);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rssGrowth = half >= 1 ? round(mean(repeatedRssMb.slice(-half)) / mean(repeatedRssMb.slice(0, half)) - 1, 3) : 0;
  // `floor`: what the null proxy alone measures against the same target in this run. A target below it
  // is out of reach of any gateway on Node's HTTP stack on this machine.
  const targets = [
    { target: 'gateway CPU per non-streaming request', goal: '≤ 0.10 ms', value: maxCpu('non-streaming'), floor: maxCpu('non-streaming', 'null-proxy'), pass: maxCpu('non-streaming') <= 0.1 },
    { target: 'gateway CPU per 50-chunk stream', goal: '≤ 0.25 ms', value: maxCpu('streaming'), floor: maxCpu('streaming', 'null-proxy'), pass: maxCpu('streaming') <= 0.25 },
    { target: 'req/s vs null proxy, non-streaming, 50 conns', goal: '≥ 0.70', value: rps50('non-streaming'), floor: 1, pass: rps50('non-streaming') >= 0.7 },
    { target: 'req/s vs null proxy, streaming, 50 conns', goal: '≥ 0.70', value: rps50('streaming'), floor: 1, pass: rps50('streaming') >= 0.7 },
    { target: 'added latency unloaded p50', goal: '≤ 0.2 ms', value: added.p50Ms, floor: nullAdded.p50Ms, pass: added.p50Ms <= 0.2 },
    { target: 'added latency unloaded p99', goal: '≤ 1 ms', value: added.p99Ms, floor: nullAdded.p99Ms, pass: added.p99Ms <= 1 },
    { target: 'added stream TTFB unloaded p50', goal: '≤ 0.3 ms', value: added.streamTtfbP50Ms, floor: nullAdded.streamTtfbP50Ms, pass: added.streamTtfbP50Ms <= 0.3 },
    { target: 'peak RSS under load', goal: '≤ 150 MB', value: peakRss(), floor: peakRss('null-proxy'), pass: peakRss() <= 150 },
    { target: 'RSS growth across repeated runs (second half over first)', goal: `≤ ${RSS_GROWTH_TOLERANCE * 100} %`, value: rssGrowth, floor: undefined, pass: rssGrowth <= RSS_GROWTH_TOLERANCE },
    { target: 'usage records dropped', goal: '0', value: usage.dropped, floor: undefined, pass: usage.dropped === 0 },
  ];
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, pinned: PIN };
  const lines = [
    `# Switchyard vs null proxy vs direct (${date})`,
    '',
    `${machine.cpus} × ${machine.cpu}, Node ${machine.node}; ${PIN ? 'gateway and null proxy pinned to core 0, simulator and wrk to core 1' : 'not pinned'}; ` +
      `${DURATION} s per cell${SMOKE ? ' (smoke run: numbers meaningless)' : ''}. Switchyard: virtual key with budgets and rate limits, usage to SQLite.`,
    '',
    '| payload | conns | target | req/s | p50 ms | p90 ms | p99 ms | added p50 ms | added p99 ms | stream TTFB p50 ms | CPU ms/req | peak RSS MB | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...cells.map(
      (c) =>
        `| ${c.payload} | ${c.connections} | ${c.target} | ${c.rps} | ${c.p50Ms} | ${c.p90Ms} | ${c.p99Ms} | ${c.addedP50Ms ?? ''} | ${c.addedP99Ms ?? ''} | ${c.ttfbP50Ms ?? ''} | ${c.cpuMsPerReq ?? ''} | ${c.peakRssMb ?? ''} | ${c.errors} |`,
    ),
    '',
    '| payload | conns | Switchyard / null proxy req/s | Switchyard / null proxy CPU per request |',
    '|---|---|---|---|',
    ...ratios.map((r) => `| ${r.payload} | ${r.connections} | ${r.rps} | ${r.cpuPerReq} |`),
    '',
    `Unloaded, sequential (${unloaded.requests} requests of each kind, one connection):`,
    '',
    '| target | p50 ms | p99 ms | stream TTFB p50 ms | added p50 ms | added p99 ms | added stream TTFB p50 ms |',
    '|---|---|---|---|---|---|---|',
    ...(['direct', 'null-proxy', 'switchyard'] as const).map((t) => {
      const s = unloaded.targets[t];
      const a = t === 'direct' ? undefined : unloaded.added[t];
      return `| ${t} | ${s.p50Ms} | ${s.p99Ms} | ${s.streamTtfbP50Ms} | ${a?.p50Ms ?? ''} | ${a?.p99Ms ?? ''} | ${a?.streamTtfbP50Ms ?? ''} |`;
    }),
    '',
    `Gateway CPU per request, one request at a time: non-streaming ${unloaded.cpuMsPerReq.switchyard.nonStreaming} ms (null proxy ${unloaded.cpuMsPerReq['null-proxy'].nonStreaming} ms), ` +
      `50-chunk stream ${unloaded.cpuMsPerReq.switchyard.streaming} ms (null proxy ${unloaded.cpuMsPerReq['null-proxy'].streaming} ms).`,
    '',
    `Usage records: ${usage.recorded} successful rows for ${usage.served} successful requests served (${usage.recordedTotal} rows in all; dropped: ${usage.dropped}).`,
    `Switchyard RSS after each cell (MB): ${rssSeries.join(', ')}; after each of ${repeatedRssMb.length} repeated non-streaming runs at ${Math.max(...CONNECTIONS)} connections: ${repeatedRssMb.join(', ')}.`,
    '',
    '| target | goal | measured | met | null proxy alone (floor) |',
    '|---|---|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.goal} | ${t.value} | ${t.pass ? 'yes' : 'no'} | ${t.floor ?? ''} |`),
    '',
  ];
  const markdown = lines.join('\n');
  process.stdout.write(`${markdown}\n`);
  writeFileSync(join(RESULTS, `${NAME}.md`), markdown);
  writeFileSync(
    join(RESULTS, `${NAME}.json`),
    `${JSON.stringify({ date, smoke: SMOKE, machine, durationS: DURATION, connections: CONNECTIONS, cells, ratios, unloaded, usage, rssAfterCellsMb, repeatedRssMb, targets }, null, 2)}\n`,
  );
  process.stdout.write(`results: ${join(RESULTS, `${NAME}.json`)}\n`);
}

await main();
