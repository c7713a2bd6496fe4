// Two checkouts of Switchyard under the same load, interleaved: the measurement every optimisation
// round in docs/performance.md reports. Single runs of `npm run bench` move by ±15 % on a noisy VM;
// here both gateways are up at once, each round runs `wrk` against one and then the other (the order
// alternates), and the ratios are taken within a round, so drift hits both alike.
//
//   npm run bench:ab -- --base <git revision or checkout directory>
//        [--payload plain|stream] [--rounds 12] [--connections 50] [--seconds 3]
//
// A is the base, B this checkout. A revision is checked out into a temporary git worktree that uses
// this checkout's node_modules (so the dependencies must not differ). Both gateways get the
// benchmark's config (governance on, usage to SQLite) and are pinned to core 0; the simulator and wrk
// to core 1. Prints each round, the medians of B/A (CPU per request, requests per second) and a
// final `AB_JSON` line.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BODY, child, cpuMs, freePort, GATEWAY_CORE, gatewayConfig, LOAD_CORE, ROOT, STREAM_BODY, waitFor, wrk } from './harness.ts';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    payload: { type: 'string', default: 'plain' },
    rounds: { type: 'string', default: '12' },
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '3' },
  },
});
if (!args.base) throw new Error('--base <git revision or checkout directory> is required');
if (args.payload !== 'plain' && args.payload !== 'stream') throw new Error('--payload is plain or stream');
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const SECONDS = Number(args.seconds);

interface Side {
  name: 'A' | 'B';
  root: string;
  origin: string;
  pid: number;
}

interface Round {
  a: { cpuMsPerReq: number; rps: number };
  b: { cpuMsPerReq: number; rps: number };
  cpuRatio: number;
  rpsRatio: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round4 = (n: number): number => Number(n.toFixed(4));

/** The base checkout: a directory as given, or a revision checked out into a temporary worktree. */
function checkout(base: string, dir: string): { root: string; cleanup: () => void } {
  if (existsSync(join(base, 'bin/switchyard.js'))) return { root: resolve(base), cleanup: () => undefined };
  const root = join(dir, 'base');
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', root, base], { stdio: 'ignore' });
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  return { root, cleanup: () => execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', root], { stdio: 'ignore' }) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-ab-'));
  const base = checkout(args.base as string, dir);
  const bodyFile = join(dir, 'body.json');
  writeFileSync(bodyFile, args.payload === 'stream' ? STREAM_BODY : BODY);
  const simPort = await freePort();
  const procs = [child(LOAD_CORE, [join(ROOT, 'bin/switchyard.js'), 'simulate', '--format', 'openai', '--port', String(simPort), '--output-tokens', '230'])];
  try {
    const sides: Side[] = [];
    for (const [name, root] of [['A', base.root], ['B', ROOT]] as const) {
      const port = await freePort();
      const config = join(dir, `${name}.yaml`);
      writeFileSync(config, gatewayConfig({ port, db: join(dir, `${name}.db`), simPort }));
      const proc = child(GATEWAY_CORE, [join(root, 'bin/switchyard.js'), 'serve', '--config', config]);
      procs.push(proc);
      sides.push({ name, root, origin: `http://127.0.0.1:${port}`, pid: proc.pid as number });
    }
    await waitFor(`http://127.0.0.1:${simPort}/v1/models`);
    for (const side of sides) await waitFor(`${side.origin}/health/ready`);
    for (const side of sides) await wrk(`${side.origin}/v1/chat/completions`, bodyFile, CONNECTIONS, Math.max(1, Math.min(2, SECONDS))); // warm-up

    const rounds: Round[] = [];
    let errors = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const measured = new Map<Side['name'], { cpuMsPerReq: number; rps: number }>();
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        const before = cpuMs(side.pid);
        const result = await wrk(`${side.origin}/v1/chat/completions`, bodyFile, CONNECTIONS, SECONDS);
        errors += result.errors + result.non2xx;
        measured.set(side.name, { cpuMsPerReq: round4((cpuMs(side.pid) - before) / Math.max(1, result.requests)), rps: Math.round(result.requests / (result.duration_us / 1e6)) });
      }
      const a = measured.get('A') as Round['a'];
      const b = measured.get('B') as Round['b'];
      const round: Round = { a, b, cpuRatio: round4(b.cpuMsPerReq / Math.max(1e-9, a.cpuMsPerReq)), rpsRatio: round4(b.rps / Math.max(1, a.rps)) };
      rounds.push(round);
      process.stderr.write(`round ${r + 1}: A ${a.cpuMsPerReq} ms/req ${a.rps} req/s | B ${b.cpuMsPerReq} ms/req ${b.rps} req/s | B/A CPU ${round.cpuRatio}\n`);
    }
    const cpuRatios = rounds.map((r) => r.cpuRatio);
    const rpsRatios = rounds.map((r) => r.rpsRatio);
    const summary = {
      base: args.base,
      payload: args.payload,
      connections: CONNECTIONS,
      seconds: SECONDS,
      rounds: rounds.length,
      errors,
      cpuRatio: { median: round4(median(cpuRatios)), min: Math.min(...cpuRatios), max: Math.max(...cpuRatios) },
      rpsRatio: { median: round4(median(rpsRatios)), min: Math.min(...rpsRatios), max: Math.max(...rpsRatios) },
      perRound: rounds,
    };
    process.stdout.write(
      `B (this checkout) / A (${args.base}), ${args.payload}, ${CONNECTIONS} connections, ${rounds.length} rounds of ${SECONDS} s each:\n` +
        `  CPU per request: median ${summary.cpuRatio.median} (min ${summary.cpuRatio.min}, max ${summary.cpuRatio.max})\n` +
        `  requests per second: median ${summary.rpsRatio.median} (min ${summary.rpsRatio.min}, max ${summary.rpsRatio.max})\n` +
        `  failed requests: ${errors}\n` +
        `AB_JSON ${JSON.stringify(summary)}\n`,
    );
  } finally {
    for (const proc of procs) proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    base.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
