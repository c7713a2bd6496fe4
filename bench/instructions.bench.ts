// Instructions per request in the gateway process, counted by callgrind: unlike time, the count does
// not depend on what else the machine is doing, so a change of 1–2 % shows (the JIT's and the usage
// batches' timing still move it by a few per cent between runs).
//
//   npm run bench:instructions -- [--payload plain|stream] [--warm 12000] [--requests 3000]
//
// The gateway (the benchmark's config: governance on, usage to SQLite) runs under
// `valgrind --tool=callgrind --instr-atstart=no` with `node --single-threaded`, so JIT compilation
// and GC are counted in the one thread. After `--warm` requests, instrumentation is switched on for
// exactly `--requests` requests (8 connections) and dumped. Needs valgrind (Debian package).
// Prints the count, split into GC, compilation and the rest (bench/callgrind-split.ts: compare the
// rest, which repeats within ~2 %), and an `INSTR_JSON` line; the dump stays in the printed directory
// for `callgrind_annotate`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { splitInstructions } from './callgrind-split.ts';
import { BODY, child, freePort, gatewayConfig, KEY, LOAD_CORE, ROOT, STREAM_BODY, waitFor } from './harness.ts';

const { values: args } = parseArgs({
  options: {
    payload: { type: 'string', default: 'plain' },
    warm: { type: 'string', default: '12000' },
    requests: { type: 'string', default: '3000' },
  },
});
if (args.payload !== 'plain' && args.payload !== 'stream') throw new Error('--payload is plain or stream');
const WARM = Number(args.warm);
const REQUESTS = Number(args.requests);
const CONNECTIONS = 8;

/** Sends exactly `count` requests over the pool's connections; returns how many were not 200. */
async function send(pool: Pool, body: string, count: number): Promise<number> {
  let left = count;
  let failed = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (left-- > 0) {
        const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } });
        await res.body.text();
        if (res.statusCode !== 200) failed++;
      }
    }),
  );
  return failed;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-instructions-'));
  const [simPort, port] = [await freePort(), await freePort()];
  const config = join(dir, 'bench.yaml');
  writeFileSync(config, gatewayConfig({ port, db: join(dir, 'bench.db'), simPort }));
  const sim = child(LOAD_CORE, [join(ROOT, 'bin/switchyard.js'), 'simulate', '--format', 'openai', '--port', String(simPort), '--output-tokens', '230']);
  const gateway = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', `--log-file=${join(dir, 'valgrind.log')}`, `--callgrind-out-file=${join(dir, 'callgrind.out.%p')}`, process.execPath, '--single-threaded', join(ROOT, 'bin/switchyard.js'), 'serve', '--config', config],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
  try {
    await waitFor(`http://127.0.0.1:${simPort}/v1/models`);
    await waitFor(`http://127.0.0.1:${port}/health/ready`, 1200);
    const body = args.payload === 'stream' ? STREAM_BODY : BODY;
    let failed = await send(pool, body, WARM);
    const pid = String(gateway.pid);
    execFileSync('callgrind_control', ['-i', 'on', pid], { stdio: 'ignore' });
    failed += await send(pool, body, REQUESTS);
    execFileSync('callgrind_control', ['-i', 'off', pid], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['-d', pid], { stdio: 'ignore' });
    // The dump is the largest "totals" among the files written so far (the start-up part holds none).
    let total = 0;
    let dump = '';
    for (const file of readdirSync(dir).filter((f) => f.startsWith('callgrind.out.'))) {
      const match = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
      if (match && Number(match[1]) > total) [total, dump] = [Number(match[1]), join(dir, file)];
    }
    if (total === 0) throw new Error(`callgrind wrote no counts in ${dir}`);
    const split = splitInstructions(dump);
    const perRequest = (n: number): number => Math.round(n / REQUESTS);
    const result = {
      payload: args.payload,
      warm: WARM,
      requests: REQUESTS,
      failed,
      instructionsPerRequest: perRequest(total),
      gcPerRequest: perRequest(split.gc),
      compilePerRequest: perRequest(split.compile),
      restPerRequest: perRequest(split.rest),
      dump,
    };
    const k = (n: number): string => `${(n / 1000).toFixed(1)}k`;
    process.stdout.write(
      `${args.payload}: ${k(result.instructionsPerRequest)} instructions per request in the gateway ` +
        `(${REQUESTS} requests after ${WARM} of warm-up; ${failed} failed)\n` +
        `  GC ${k(result.gcPerRequest)}, compilation ${k(result.compilePerRequest)}, the rest ${k(result.restPerRequest)}\n` +
        `dump: ${dump}\nINSTR_JSON ${JSON.stringify(result)}\n`,
    );
  } finally {
    await pool.close();
    gateway.kill('SIGTERM');
    sim.kill('SIGTERM');
  }
}

await main();
