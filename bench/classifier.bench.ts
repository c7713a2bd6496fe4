// Micro-benchmark of the complexity classifier: µs per prompt (p50/p99) over the dev prompts of the routing
// data, plus long prompts and a multi-turn chat request. Writes bench/results/classifier-latest.md.
//
//   npm run bench:classifier        (BENCH_ROUNDS=n to change the number of passes over the prompts)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { ChatRequest } from '../src/core/canonical.ts';
import { ComplexityClassifier } from '../src/routing/complexity/classifier.ts';
import { cleanRows, loadRoutingData, resolveDataFile } from '../src/routing/complexity/data.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const ROOT = new URL('..', import.meta.url).pathname;

interface Row {
  label: string;
  prompts: number;
  medianChars: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** CPU time of the call (process user + system): immune to the scheduler preempting the benchmark. */
  cpuP50Us: number;
  cpuP99Us: number;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function measure(label: string, inputs: string[], fn: (s: string) => number, rounds: number, textLengths?: number[]): Row {
  for (let r = 0; r < 3; r++) for (const s of inputs) fn(s); // warm-up (JIT)
  const samples = new Float64Array(inputs.length * rounds);
  const cpu = new Float64Array(inputs.length * rounds);
  let k = 0;
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    for (const s of inputs) {
      const c = process.cpuUsage();
      const t = process.hrtime.bigint();
      sink += fn(s);
      samples[k] = Number(process.hrtime.bigint() - t) / 1000;
      const used = process.cpuUsage(c);
      cpu[k++] = used.user + used.system;
    }
  }
  cpu.sort();
  if (Number.isNaN(sink)) throw new Error('NaN score');
  samples.sort();
  let total = 0;
  for (const x of samples) total += x;
  const lengths = (textLengths ?? inputs.map((s) => s.length)).sort((a, b) => a - b);
  return {
    label,
    prompts: inputs.length,
    medianChars: lengths[Math.floor(lengths.length / 2)],
    meanUs: total / samples.length,
    p50Us: percentile(samples, 0.5),
    p99Us: percentile(samples, 0.99),
    maxUs: samples[samples.length - 1],
    cpuP50Us: percentile(cpu, 0.5),
    cpuP99Us: percentile(cpu, 0.99),
  };
}

const classifier = ComplexityClassifier.default();
const dataFile = resolveDataFile(process.argv[2]);
const synthetic = [
  'What is the capital of France?',
  'Write a haiku about autumn leaves.',
  'A train leaves at 3 pm going 60 mph; another leaves at 4 pm going 80 mph. When does the second catch up?',
  'Explain the difference between TCP and UDP, with examples of when to use each.',
];
const devPrompts = existsSync(dataFile) ? cleanRows(loadRoutingData(dataFile).rows, 'dev').map((r) => r.prompt) : synthetic;
const corpus = devPrompts.join('\n\n');
const long16k = corpus.slice(0, 16_000);
const long100k = corpus.length >= 100_000 ? corpus.slice(0, 100_000) : corpus.repeat(Math.ceil(100_000 / corpus.length)).slice(0, 100_000);
const chat = (last: string): ChatRequest => ({
  model: 'auto',
  messages: [
    { role: 'system', content: 'You are a careful assistant. Answer concisely and cite sources when possible.' },
    { role: 'user', content: devPrompts[0] },
    { role: 'assistant', content: 'Here is my answer to the first question, with some explanation. '.repeat(6) },
    { role: 'user', content: devPrompts[1] ?? devPrompts[0] },
    { role: 'assistant', content: 'And a second answer. '.repeat(10) },
    { role: 'user', content: last },
  ],
  tools: [{ type: 'function', function: { name: 'search', description: 'web search' } }],
});
const chatReqs = devPrompts.slice(0, 200).map(chat);
let chatIndex = 0;

const typical = devPrompts.filter((p) => p.length <= 2000);
const rows: Row[] = [
  measure(`all dev prompts (${existsSync(dataFile) ? 'routing data' : 'synthetic'})`, devPrompts, (s) => classifier.score({ prompt: s }), ROUNDS),
  measure('dev prompts of typical length (≤ 2,000 chars ≈ 500 tokens)', typical, (s) => classifier.score({ prompt: s }), ROUNDS),
  measure(
    '6-message chat request (scoreRequest; chars = last user turn)',
    chatReqs.map((_, i) => String(i)),
    () => classifier.scoreRequest(chatReqs[chatIndex++ % chatReqs.length]),
    ROUNDS,
    devPrompts.slice(0, chatReqs.length).map((p) => p.length),
  ),
  measure('long prompt, 16k chars (~4k tokens)', [long16k], (s) => classifier.score({ prompt: s }), 200),
  measure('long prompt, 100k chars (head+tail scan)', [long100k], (s) => classifier.score({ prompt: s }), 100),
];

const fmt = (x: number) => x.toFixed(1);
const md = [
  `# Complexity classifier (${new Date().toISOString()})`,
  '',
  `Node ${process.version}, ${ROUNDS} passes over the prompts after a warm-up; one call = feature extraction + scoring.`,
  `Wall-clock µs include any time the scheduler took the CPU away (load average when measured: ${loadavg()[0].toFixed(1)} on ${cpus().length} cores);`,
  'CPU µs are the process CPU time of the call (1 µs resolution), which such preemption does not inflate.',
  '',
  '| case | prompts | median chars | mean µs | p50 µs | p99 µs | max µs | CPU p50 µs | CPU p99 µs |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.label} | ${r.prompts} | ${r.medianChars} | ${fmt(r.meanUs)} | ${fmt(r.p50Us)} | ${fmt(r.p99Us)} | ${fmt(r.maxUs)} | ${fmt(r.cpuP50Us)} | ${fmt(r.cpuP99Us)} |`),
  '',
].join('\n');
process.stdout.write(md);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/classifier-latest.md'), md);
