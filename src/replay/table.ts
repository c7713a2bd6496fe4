// The replay report as a plain-text table for the terminal.
import type { ReplayReport } from './runner.ts';
import type { SideSummary } from './tally.ts';

const usd = (x: number): string => `$${x.toFixed(x !== 0 && Math.abs(x) < 1 ? 6 : 2)}`;
const ms = (x: number): string => `${Math.round(x).toLocaleString('en-US')} ms`;
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const num = (x: number | null, digits = 3): string => (x === null ? '—' : x.toFixed(digits));
const signed = (x: number, format: (v: number) => string): string => (x > 0 ? `+${format(x)}` : x < 0 ? `-${format(-x)}` : format(0));

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('   ').trimEnd()).join('\n');
}

function share(side: SideSummary, model: string): string {
  const m = side.models.find((x) => x.model === model);
  return m ? `${m.requests.toLocaleString('en-US')} (${pct(m.share)})` : '—';
}

export function formatReport(r: ReplayReport): string {
  const { recorded: a, estimated: b, change } = r;
  const skipped = Object.entries(r.records.skipped).map(([reason, n]) => `${n} ${reason.replaceAll('_', ' ')}`);
  const lines = [
    `Replay of ${r.window.from} → ${r.window.to}${r.org_id ? ` (org ${r.org_id})` : ''}`,
    `  ${r.records.replayed.toLocaleString('en-US')} requests replayed of ${r.records.read.toLocaleString('en-US')} read${skipped.length ? `; skipped: ${skipped.join(', ')}` : ''}${r.records.truncated ? ' (window truncated: raise --max-records)' : ''}`,
    `  policy: strategy ${r.policy.strategy}; auto: quality_target ${r.policy.auto.quality_target}, strategy ${r.policy.auto.strategy}${r.policy.models ? `; models: ${r.policy.models.join(', ')}` : ''}`,
    '',
    table([
      ['', 'recorded', 'policy (estimate)', 'change'],
      ['cost', usd(a.cost_usd), usd(b.cost_usd), change.cost_ratio === null ? signed(change.cost_usd, usd) : signed(change.cost_ratio - 1, pct)],
      ['cost per 1k requests', usd(a.cost_per_1k_requests_usd), usd(b.cost_per_1k_requests_usd), ''],
      ['latency p50', ms(a.latency_ms.p50), ms(b.latency_ms.p50), signed(change.latency_p50_ms, ms)],
      ['latency p95', ms(a.latency_ms.p95), ms(b.latency_ms.p95), signed(change.latency_p95_ms, ms)],
      ['quality (catalog, mean)', num(a.quality.mean), num(b.quality.mean), change.quality === null ? '' : signed(change.quality, (v) => v.toFixed(3))],
      ['auto: expected gain captured', num(a.auto.expected_gain_captured), num(b.auto.expected_gain_captured), ''],
      ['requests rerouted', '', `${change.rerouted.toLocaleString('en-US')} (${pct(change.rerouted_share)})`, ''],
    ]),
  ];
  const models = [...new Set([...a.models, ...b.models].map((m) => m.model))].sort();
  if (models.length > 0) {
    lines.push('', table([['model mix', 'recorded', 'policy (estimate)'], ...models.map((m) => [m, share(a, m), share(b, m)])]));
  }
  if (a.auto.requests > 0 || b.auto.requests > 0) {
    const tiers = ['economy', 'standard', 'premium'];
    const cell = (side: SideSummary, t: string): string => {
      const n = side.auto.tiers[t] ?? 0;
      return `${n.toLocaleString('en-US')} (${pct(side.auto.requests > 0 ? n / side.auto.requests : 0)})`;
    };
    lines.push('', table([['auto tier mix', 'recorded', 'policy (estimate)'], ...tiers.map((t) => [t, cell(a, t), cell(b, t)])]));
  }
  if (change.latency_from_priors > 0) {
    lines.push('', `note: ${change.latency_from_priors} rerouted requests went to deployments whose model served nothing in the window; their latency is the router's prior (800 ms to the first token, 60 tokens/s)`);
  }
  if (a.unpriced_requests > 0 || b.unpriced_requests > 0) lines.push('', `note: ${b.unpriced_requests} replayed requests went to deployments with no known price (counted at $0)`);
  return `${lines.join('\n')}\n`;
}
