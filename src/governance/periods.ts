// Calendar-aligned budget periods in the org's IANA time zone: a "daily" budget resets at local
// midnight, "weekly" on Monday (ISO week), "monthly" on the 1st. Wall-clock parts come from
// Intl.DateTimeFormat, so DST changes, month ends and leap years follow the platform's tz database.
// UTC (the default zone) is read off Date's UTC fields instead: the first Intl.DateTimeFormat with a
// time zone maps ~6 MB of ICU's data into the process, which a gateway in UTC never needs.
import type { BudgetPeriod } from './types.ts';

/** One period as epoch ms: `start` ≤ t < `end`. A `total` budget spans [0, Infinity). */
export interface PeriodWindow {
  start: number;
  end: number;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const HOUR = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Names Intl resolves to UTC itself; wall clocks there come from Date's UTC fields. */
const UTC_ZONES: ReadonlySet<string> = new Set(['UTC', 'Etc/UTC', 'Etc/Universal', 'Etc/Zulu', 'Universal', 'Zulu']);

/** True when the platform knows the IANA time zone (validate org settings with it). */
export function isValidTimeZone(timeZone: string): boolean {
  if (UTC_ZONES.has(timeZone)) return true;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function wallClock(timeZone: string, t: number): WallClock {
  if (UTC_ZONES.has(timeZone)) {
    const d = new Date(t);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  }
  const out: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(t)) {
    if (part.type === 'year' || part.type === 'month' || part.type === 'day' || part.type === 'hour' || part.type === 'minute' || part.type === 'second') {
      out[part.type] = Number(part.value);
    }
  }
  return out;
}

/** Local time minus UTC at instant t, in ms (whole seconds: the formatter has no milliseconds). */
function offsetAt(timeZone: string, t: number): number {
  const w = wallClock(timeZone, t);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(t / 1000) * 1000;
}

function dayKey(year: number, month: number, day: number): number {
  return year * 10_000 + month * 100 + day;
}

function localDayKey(timeZone: string, t: number): number {
  const w = wallClock(timeZone, t);
  return dayKey(w.year, w.month, w.day);
}

/**
 * The first instant whose local date is `year-month-day` (or later, for a day a zone skipped):
 * local midnight, or the end of a DST gap that swallowed midnight, or the first of two midnights
 * when clocks fall back across it. `month` may overflow (13 = January next year): Date.UTC
 * normalises it.
 */
function startOfLocalDay(timeZone: string, year: number, month: number, day: number): number {
  const t0 = Date.UTC(year, month - 1, day);
  const n = new Date(t0);
  const target = dayKey(n.getUTCFullYear(), n.getUTCMonth() + 1, n.getUTCDate());
  // Fast path: local midnight exists and occurs once.
  const o1 = offsetAt(timeZone, t0);
  let candidate = t0 - o1;
  const o2 = offsetAt(timeZone, candidate);
  if (o2 !== o1) candidate = t0 - o2;
  const w = wallClock(timeZone, candidate);
  if (dayKey(w.year, w.month, w.day) === target && w.hour === 0 && w.minute === 0 && w.second === 0 && localDayKey(timeZone, candidate - 1) < target) {
    return candidate;
  }
  // Otherwise search for it. UTC offsets lie within [-12h, +14h], which brackets the answer.
  let lo = t0 - 15 * HOUR;
  let hi = t0 + 13 * HOUR;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDayKey(timeZone, mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

function computeWindow(period: Exclude<BudgetPeriod, 'total'>, timeZone: string, now: number): PeriodWindow {
  const { year, month, day } = wallClock(timeZone, now);
  switch (period) {
    case 'daily':
      return { start: startOfLocalDay(timeZone, year, month, day), end: startOfLocalDay(timeZone, year, month, day + 1) };
    case 'weekly': {
      const sinceMonday = (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7;
      const monday = day - sinceMonday;
      return { start: startOfLocalDay(timeZone, year, month, monday), end: startOfLocalDay(timeZone, year, month, monday + 7) };
    }
    case 'monthly':
      return { start: startOfLocalDay(timeZone, year, month, 1), end: startOfLocalDay(timeZone, year, month + 1, 1) };
  }
}

const TOTAL: PeriodWindow = Object.freeze({ start: 0, end: Number.POSITIVE_INFINITY });
const MAX_CACHED_ZONES = 1024;
// The current window per period and zone: every request asks, and it changes once a day at most.
const cache: Record<Exclude<BudgetPeriod, 'total'>, Map<string, PeriodWindow>> = { daily: new Map(), weekly: new Map(), monthly: new Map() };

/**
 * The period containing `now` for a budget with this period in this time zone. Throws a RangeError
 * for an unknown time zone.
 */
export function periodWindow(period: BudgetPeriod, timeZone: string, now: number): PeriodWindow {
  if (period === 'total') return TOTAL;
  const zones = cache[period];
  const hit = zones.get(timeZone);
  if (hit && hit.start <= now && now < hit.end) return hit;
  const window = Object.freeze(computeWindow(period, timeZone, now));
  if (zones.size >= MAX_CACHED_ZONES) zones.clear();
  zones.set(timeZone, window);
  return window;
}

/** Start of the current period (epoch ms); 0 for `total`. Spend is keyed by it. */
export function periodStart(period: BudgetPeriod, timeZone: string, now: number): number {
  return periodWindow(period, timeZone, now).start;
}

/** When the current period ends and the budget resets (epoch ms); Infinity for `total`. */
export function periodEnd(period: BudgetPeriod, timeZone: string, now: number): number {
  return periodWindow(period, timeZone, now).end;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** ISO 8601 with the zone's offset (`2026-03-29T00:00:00+01:00`), for messages shown to people. */
export function isoInZone(t: number, timeZone: string): string {
  const w = wallClock(timeZone, t);
  const offsetMin = Math.round(offsetAt(timeZone, t) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
