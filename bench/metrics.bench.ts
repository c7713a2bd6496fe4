// CPU added per request by observability: GatewayMetrics.observe (Prometheus counters and histograms)
// and, when tracing is on, building the span (export is batched off the path). Measured as process CPU
// time over many records, after a warm-up.
import { syntheticRecords } from '../src/analytics/testing.ts';
import { GatewayMetrics } from '../src/observability/metrics.ts';
import { spanFromRecord } from '../src/observability/tracing.ts';

const N = Number(process.env.METRICS_BENCH_RECORDS ?? 1_000_000);
const records = [...syntheticRecords(10_000, { from: Date.UTC(2026, 10, 1), spanMs: 86_400_000 })];

function cpuMicros(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

function perRecord(label: string, fn: (i: number) => void): number {
  for (let i = 0; i < 50_000; i++) fn(i);
  const us = cpuMicros(() => {
    for (let i = 0; i < N; i++) fn(i);
  });
  const per = us / N;
  process.stdout.write(`${label}: ${per.toFixed(3)} µs CPU per request\n`);
  return per;
}

const metrics = new GatewayMetrics();
const observe = perRecord('metrics.observe (counters, 2 histograms, tokens, cost)', (i) => metrics.observe(records[i % records.length]));
const span = perRecord('tracing: span from record (sampled requests only)', (i) => spanFromRecord(records[i % records.length]));
const text = await metrics.metrics();
process.stdout.write(`exposition: ${text.split('\n').filter((l) => l.startsWith('switchyard_requests_total')).length} request series, ${Buffer.byteLength(text)} bytes\n`);
process.stdout.write(`\n| piece | CPU µs per request |\n| --- | --- |\n| metrics.observe | ${observe.toFixed(2)} |\n| span built (tracing on) | ${span.toFixed(2)} |\n`);
