// Number, money, duration and time formatting for tables and charts.

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** @param {number | null | undefined} n */
export function fmtInt(n) {
  return n === null || n === undefined || Number.isNaN(n) ? '—' : int.format(n);
}

/** @param {number | null | undefined} n */
export function fmtCompact(n) {
  return n === null || n === undefined || Number.isNaN(n) ? '—' : compact.format(n);
}

/**
 * Dollars with as many decimals as a small amount needs (requests often cost fractions of a cent).
 * @param {number | null | undefined} n
 */
export function fmtUsd(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  const abs = Math.abs(n);
  const digits = abs === 0 ? 2 : abs >= 100 ? 0 : abs >= 1 ? 2 : abs >= 0.01 ? 4 : 6;
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits })}`;
}

/**
 * @param {number | null | undefined} fraction 0..1
 * @param {number} [digits]
 */
export function fmtPct(fraction, digits = 1) {
  return fraction === null || fraction === undefined || Number.isNaN(fraction) ? '—' : `${(fraction * 100).toFixed(digits)}%`;
}

/** @param {number | null | undefined} ms */
export function fmtMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}

/** @param {string | number | null | undefined} t ISO string or epoch ms */
export function fmtTime(t) {
  if (t === null || t === undefined) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** @param {string | number | null | undefined} t */
export function fmtAgo(t) {
  if (t === null || t === undefined) return '—';
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  if (s < 0) return `in ${fmtDuration(-s)}`;
  return `${fmtDuration(s)} ago`;
}

/** @param {number} s seconds */
export function fmtDuration(s) {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** Day, month and time of day: compact, for table rows. @param {string | number | null | undefined} t */
export function fmtShortTime(t) {
  if (t === null || t === undefined) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString('en-GB', { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
