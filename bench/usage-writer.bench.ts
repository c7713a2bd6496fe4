// The SQLite usage writer on the gateway's event loop: records arrive at a steady rate (synthetic
// traffic over 160 virtual keys, 8 teams and 8 models by default, as src/analytics/testing.ts makes it) and the
// sink writes them as `serve` configures it. Two writers, interleaved in one run:
// - **per interval**: the default — rollup deltas accumulated and written every 2 s, one table a turn;
// - **per batch**: rollups written right after each batch of records (`rollupIntervalMs: 1`), as the
//   writer worked before (round 9 of docs/performance.md).
// Reports the writer's CPU per record, the longest and p99 event-loop stall a 1 ms timer saw, and the
// ratios per interval / per batch.
//
//   npm run bench:usage-writer        # BENCH_RATE records/s (default 4000), BENCH_SECONDS per run (6), BENCH_KEYS (160), BENCH_RESULTS_DIR
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { syntheticRecords } from '../src/analytics/testing.ts';
import { openDatabase } from '../src/store/sqlite/database.ts';
import { SqliteUsageSink, type SqliteUsageSinkOptions } from '../src/store/sqlite/usage-sink.ts';
import type { UsageRecord } from '../src/usage/record.ts';

const RATE = Number(process.env.BENCH_RATE ?? 4000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
/** Virtual keys the traffic is spread over (each with its team, user and preferred models). */
const KEYS = Number(process.env.BENCH_KEYS ?? 160);
const ROOT = new URL('..', import.meta.url).pathname;
const RESULTS = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const MODES: Array<{ mode: string; options: SqliteUsageSinkOptions }> = [
  { mode: 'rollups per interval', options: {} },
  { mode: 'rollups per batch', options: { rollupIntervalMs: 1 } },
];

interface Result {
  mode: string;
  /** Records the writer stored: every one, or the run does not count. */
  written: number;
  cpuUsPerRecord: number;
  maxStallMs: number;
  p99StallMs: number;
}

async function run(mode: string, options: SqliteUsageSinkOptions): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-writer-'));
  const db = openDatabase(join(dir, 'usage.db'));
  const sink = new SqliteUsageSink(db, { maintenanceIntervalMs: 0, ...options });
  const total = RATE * SECONDS;
  // Generated as they arrive: a pre-built array of every record would make the GC pauses the longest stalls.
  const records = syntheticRecords(total, { from: Date.now() - SECONDS * 1000, spanMs: SECONDS * 1000, keys: KEYS });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  // The same arrival loop without a writer costs little; it is counted in both modes alike.
  const cpu = process.cpuUsage();
  delay.enable();
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
    for (; sent < due; sent++) sink.record(records.next().value as UsageRecord);
    await sleep(1);
  }
  await sink.flush();
  delay.disable();
  const used = process.cpuUsage(cpu);
  const { written } = sink.stats();
  await sink.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  // The histogram counts the 1 ms resolution itself as delay.
  if (written !== total) throw new Error(`${mode}: ${written} of ${total} records written`);
  return {
    mode,
    written,
    cpuUsPerRecord: Number(((used.user + used.system) / total).toFixed(2)),
    maxStallMs: Number(Math.max(0, delay.max / 1e6 - 1).toFixed(2)),
    p99StallMs: Number(Math.max(0, delay.percentile(99) / 1e6 - 1).toFixed(2)),
  };
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (let round = 1; round <= 2; round++) for (const { mode, options } of round === 1 ? MODES : [...MODES].reverse()) results.push({ ...(await run(mode, options)), mode: `${mode}, round ${round}` });
  const of = (mode: string): Result[] => results.filter((r) => r.mode.startsWith(mode));
  const mean = (rs: Result[], key: 'cpuUsPerRecord' | 'maxStallMs' | 'p99StallMs'): number => rs.reduce((a, r) => a + r[key], 0) / rs.length;
  const ratio = (key: 'cpuUsPerRecord' | 'maxStallMs' | 'p99StallMs'): string => (mean(of('rollups per interval'), key) / mean(of('rollups per batch'), key)).toFixed(2);
  const lines = [
    `# SQLite usage writer on the event loop (${new Date().toISOString()})`,
    '',
    `${RATE} records/s for ${SECONDS} s per run (synthetic traffic over ${KEYS} virtual keys), Node ${process.version}.`,
    '',
    '| writer | CPU µs per record | longest stall ms | p99 stall ms |',
    '|---|---|---|---|',
    ...results.map((r) => `| ${r.mode} | ${r.cpuUsPerRecord} | ${r.maxStallMs} | ${r.p99StallMs} |`),
    '',
    `Rollups per interval / per batch (means of the rounds): CPU per record ${ratio('cpuUsPerRecord')}, longest stall ${ratio('maxStallMs')}, p99 stall ${ratio('p99StallMs')}.`,
    '',
  ];
  writeFileSync(join(RESULTS, 'usage-writer-latest.md'), lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\nUSAGE_WRITER_JSON ${JSON.stringify(results)}\n`);
}

await main();
