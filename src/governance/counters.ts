// Hot-path counters: budget reservations and rate-limit windows. Every check-and-change is ONE atomic
// operation over all the lines or checks it involves, so a Redis implementation maps each method onto
// one Lua script and limits hold across replicas. `InMemoryCounters` is the single-node implementation:
// each method does all its work synchronously before its first (and only) await point, which makes it
// atomic under any number of concurrent requests in one process.
import { BoundedSet } from './bounded-set.ts';
import { SlidingLog } from './sliding-log.ts';

/** One budget a request is charged against, for the current period. */
export interface BudgetLine {
  budgetId: string;
  /** Start of the budget's current period (epoch ms; 0 for `total`). */
  periodStart: number;
  limitUsd: number;
  /** Hard lines refuse a reservation that would exceed them; soft lines only count. */
  hard: boolean;
}

/** Money held for one in-flight request on each of its lines. */
export interface Reservation {
  readonly requestId: string;
  readonly lines: readonly BudgetLine[];
  readonly amountUsd: number;
}

export type ReserveResult =
  | { ok: true; reservation: Reservation }
  | { ok: false; exceeded: BudgetLine; spentUsd: number; reservedUsd: number };

/** What a settle did: `applied` is false when the request was already settled or released. */
export interface SettleOutcome {
  applied: boolean;
  /** Each line's spend after the settle, so alerting needs no second round trip. */
  lines: Array<{ line: BudgetLine; spentUsd: number }>;
}

/** Settled spend, shaped for `GovernanceStore.addSpend`. */
export interface SpendEntry {
  budgetId: string;
  periodStart: number;
  deltaUsd: number;
}
/** Receives settled spend; it should only enqueue (the caller persists in batches). */
export type SpendSink = (entries: readonly SpendEntry[]) => void;

/** One sliding-window limit: at most `limit` cost units within any `windowMs`. */
export interface RateCheck {
  key: string;
  limit: number;
  windowMs: number;
  /** 1 for a request limit, the token estimate for a token limit. */
  cost: number;
}

/** A window's state after a hit, for `x-ratelimit-*` headers. */
export interface RateState {
  key: string;
  limit: number;
  remaining: number;
  /** Until the window is empty again (OpenAI's "reset"); 0 when it already is. */
  resetMs: number;
}

export type HitResult =
  | { ok: true; states: RateState[] }
  | { ok: false; key: string; limit: number; remaining: number; retryAfterMs: number; states: RateState[] };

/** One concurrency limit: at most `max` requests in flight under `key`. */
export interface SlotRequest {
  key: string;
  max: number;
}

export type AcquireResult = { ok: true } | { ok: false; key: string; max: number };

export interface Counters {
  /**
   * Atomically: if for every HARD line spent + reserved + amount ≤ limit, reserve `amountUsd` on
   * every line (soft lines always take it); otherwise reserve nothing and name the first line that
   * refused. An amount of 0 is never refused. `requestId` must be new.
   */
  reserve(requestId: string, lines: readonly BudgetLine[], amountUsd: number): Promise<ReserveResult>;
  /**
   * Replaces the reservation's amount (failover moved the request to a pricier deployment) with the
   * same atomic check on the growth; on refusal the old reservation stays as it was.
   */
  resize(reservation: Reservation, amountUsd: number): Promise<ReserveResult>;
  /**
   * Charges the actual cost (below or above the reserved amount) to every line and releases the
   * reservation. Idempotent per requestId; a settle of an expired or unknown reservation still
   * charges. The spend also goes to the `onSettle` sink.
   */
  settle(reservation: Reservation, actualUsd: number): Promise<SettleOutcome>;
  /** Drops the reservation without charging (the request failed before costing anything). */
  release(reservation: Reservation): Promise<void>;
  spent(budgetId: string, periodStart: number): Promise<{ spentUsd: number; reservedUsd: number }>;
  /**
   * Seeds a period's spend loaded from the store. Set-if-absent: a replica restarting against
   * shared counters must not overwrite live spend with an older persisted value.
   */
  seed(budgetId: string, periodStart: number, spentUsd: number): Promise<void>;
  /**
   * Sliding-window limits, checked and added atomically across all checks; on refusal nothing is
   * added and the first refusing check is named, with when enough of its window will have expired.
   */
  hit(checks: readonly RateCheck[], now: number): Promise<HitResult>;
  /** Corrects a previous hit made at `at` by `delta` (tpm: estimated → actual tokens). */
  adjust(key: string, windowMs: number, delta: number, at: number): Promise<void>;
  /** Takes one slot under every key, or none if any is full. */
  acquire(slots: readonly SlotRequest[]): Promise<AcquireResult>;
  releaseSlots(keys: readonly string[]): Promise<void>;
  /** Cost units used in the window ending at `now`. */
  usage(key: string, windowMs: number, now: number): Promise<number>;
}

/** Hands settled spend to the sink; a failing sink is reported, never thrown into the request path. */
export function reportSpend(options: Pick<CountersOptions, 'onSettle' | 'onSinkError'>, lines: readonly BudgetLine[], deltaUsd: number): void {
  if (!options.onSettle) return;
  try {
    options.onSettle(lines.map((l) => ({ budgetId: l.budgetId, periodStart: l.periodStart, deltaUsd })));
  } catch (err) {
    options.onSinkError?.(err);
  }
}

export interface CountersOptions {
  onSettle?: SpendSink;
  /** Called when the sink throws; the settle itself has already been applied. */
  onSinkError?: (error: unknown) => void;
  /** Clock for reservation expiry. */
  now?: () => number;
  /**
   * A reservation nobody settles or releases (a crashed request path) stops holding money after
   * this long, so it cannot cause phantom "budget exceeded" forever. Longer than any request.
   */
  reservationTtlMs?: number;
  /** How many settled/released request ids are remembered for idempotency. */
  finishedMemory?: number;
}

// Money is counted in integer nano-dollars: sums stay exact (20 × $0.05 is exactly $1.00, which in
// binary floating point it is not) up to $9M per counter, and map onto Redis INCRBY.
export const UNITS_PER_USD = 1e9;

export function toUnits(usd: number, what: string): number {
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`${what} must be a finite, non-negative USD amount (got ${usd})`);
  return Math.round(usd * UNITS_PER_USD);
}

export function toUsd(units: number): number {
  return units / UNITS_PER_USD;
}

interface BudgetCounter {
  spent: number;
  reserved: number;
}

interface Held {
  lines: readonly BudgetLine[];
  amount: number;
  expiresAt: number;
}

const DEFAULT_TTL_MS = 30 * 60_000;
/**
 * A repeated settle or release comes from the request's own flow, moments after the first (and the
 * gateway's flow already settles once: `Admitted.settled`), so this is a backstop that needs well
 * under a second of traffic (0.8 s at 5,000 requests/s); each remembered id costs ~150 bytes of heap
 * with its string, and 20,000 of them were ~3 MB.
 */
const DEFAULT_FINISHED_MEMORY = 4_000;
const LOG_SWEEP_MS = 60_000;

/**
 * Single-process counters.
 *
 * Sliding windows are sliding logs: every admitted hit is kept, in ticks of a thousandth of the
 * window rounded up, until it leaves the window, with a running sum. "60 rpm" therefore means at
 * most 60 in ANY 60 s span — no fixed-window double bursts at the boundary — at a memory cost of at
 * most ~1,000 entries per window; a refusal lasts at most one tick (60 ms) longer than an exact
 * log's (src/governance/sliding-log.ts). (The Redis version keeps the same ticks in a sorted set
 * plus a hash.)
 */
export class InMemoryCounters implements Counters {
  /** Budget id → period start → counter. */
  private readonly budgets = new Map<string, Map<number, BudgetCounter>>();
  private readonly held = new Map<string, Held>();
  private readonly finished: BoundedSet;
  private readonly logs = new Map<string, SlidingLog>();
  private readonly slots = new Map<string, number>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  /** No held reservation expires before this; a lower bound, so expiry checks are O(1) until then. */
  private earliestExpiry = Number.POSITIVE_INFINITY;
  private nextPeriodSweep = 0;
  private nextLogSweep = 0;

  constructor(private readonly options: CountersOptions = {}) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.reservationTtlMs ?? DEFAULT_TTL_MS;
    this.finished = new BoundedSet(options.finishedMemory ?? DEFAULT_FINISHED_MEMORY);
  }

  async reserve(requestId: string, lines: readonly BudgetLine[], amountUsd: number): Promise<ReserveResult> {
    const amount = toUnits(amountUsd, 'reservation amount');
    if (this.held.has(requestId) || this.finished.has(requestId)) throw new Error(`request ${requestId} already has a reservation`);
    const now = this.now();
    this.expireHeld(now);
    const unique = uniqueLines(lines);
    const refusal = this.refusal(unique, amount, 0);
    if (refusal) return refusal;
    for (const line of unique) this.counter(line).reserved += amount;
    this.hold(requestId, { lines: unique, amount, expiresAt: now + this.ttlMs });
    return { ok: true, reservation: { requestId, lines: unique, amountUsd } };
  }

  async resize(reservation: Reservation, amountUsd: number): Promise<ReserveResult> {
    const amount = toUnits(amountUsd, 'reservation amount');
    const { requestId } = reservation;
    if (this.finished.has(requestId)) throw new Error(`request ${requestId} is already settled or released`);
    const now = this.now();
    this.expireHeld(now);
    // An expired reservation no longer holds anything: resizing it reserves afresh.
    const held = this.held.get(requestId);
    const previous = held?.amount ?? 0;
    const lines = held?.lines ?? uniqueLines(reservation.lines);
    const refusal = this.refusal(lines, amount, previous);
    if (refusal) return refusal;
    for (const line of lines) this.counter(line).reserved += amount - previous;
    this.hold(requestId, { lines, amount, expiresAt: now + this.ttlMs });
    return { ok: true, reservation: { requestId, lines, amountUsd } };
  }

  async settle(reservation: Reservation, actualUsd: number): Promise<SettleOutcome> {
    const actual = toUnits(actualUsd, 'actual cost');
    const { requestId } = reservation;
    const held = this.held.get(requestId);
    const lines = held?.lines ?? uniqueLines(reservation.lines);
    if (this.finished.has(requestId)) return { applied: false, lines: lines.map((line) => ({ line, spentUsd: toUsd(this.counter(line).spent) })) };
    const out: SettleOutcome = { applied: true, lines: [] };
    for (const line of lines) {
      const counter = this.counter(line);
      if (held) counter.reserved -= held.amount;
      counter.spent += actual;
      out.lines.push({ line, spentUsd: toUsd(counter.spent) });
    }
    this.held.delete(requestId);
    this.finished.add(requestId);
    if (actual > 0) reportSpend(this.options, lines, toUsd(actual));
    return out;
  }

  async release(reservation: Reservation): Promise<void> {
    const held = this.held.get(reservation.requestId);
    if (held) {
      for (const line of held.lines) this.counter(line).reserved -= held.amount;
      this.held.delete(reservation.requestId);
    }
    this.finished.add(reservation.requestId);
  }

  async spent(budgetId: string, periodStart: number): Promise<{ spentUsd: number; reservedUsd: number }> {
    this.expireHeld(this.now());
    const counter = this.budgets.get(budgetId)?.get(periodStart);
    return { spentUsd: toUsd(counter?.spent ?? 0), reservedUsd: toUsd(counter?.reserved ?? 0) };
  }

  async seed(budgetId: string, periodStart: number, spentUsd: number): Promise<void> {
    const spent = toUnits(spentUsd, 'seeded spend');
    const periods = this.periods(budgetId);
    if (!periods.has(periodStart)) periods.set(periodStart, { spent, reserved: 0 });
  }

  async hit(checks: readonly RateCheck[], now: number): Promise<HitResult> {
    this.sweepLogs(now);
    const logs = checks.map((c) => this.log(c.key, c.windowMs));
    // The same key twice in one hit must see both costs.
    const pending = new Map<string, number>();
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i];
      const log = logs[i];
      log.evict(now);
      const before = pending.get(check.key) ?? 0;
      if (log.sum + before + check.cost > check.limit) {
        const states = checks.map((c, j) => rateState(c, logs[j], now));
        const retryAfterMs = check.cost > check.limit ? check.windowMs : log.waitFor(log.sum + before + check.cost - check.limit, now);
        return { ok: false, key: check.key, limit: check.limit, remaining: Math.max(0, check.limit - log.sum), retryAfterMs, states };
      }
      pending.set(check.key, before + check.cost);
    }
    for (let i = 0; i < checks.length; i++) if (checks[i].cost !== 0) logs[i].add(now, checks[i].cost);
    return { ok: true, states: checks.map((c, i) => rateState(c, logs[i], now)) };
  }

  async adjust(key: string, windowMs: number, delta: number, at: number): Promise<void> {
    if (delta === 0) return;
    this.log(key, windowMs).add(at, delta);
  }

  async acquire(slots: readonly SlotRequest[]): Promise<AcquireResult> {
    for (const slot of slots) {
      if ((this.slots.get(slot.key) ?? 0) >= slot.max) return { ok: false, key: slot.key, max: slot.max };
    }
    for (const slot of slots) this.slots.set(slot.key, (this.slots.get(slot.key) ?? 0) + 1);
    return { ok: true };
  }

  async releaseSlots(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const n = (this.slots.get(key) ?? 0) - 1;
      if (n > 0) this.slots.set(key, n);
      else this.slots.delete(key);
    }
  }

  async usage(key: string, windowMs: number, now: number): Promise<number> {
    const log = this.logs.get(key);
    if (!log) return 0;
    log.evict(now);
    return log.sum;
  }

  /** The first hard line the growth from `previous` to `amount` would push over its limit. */
  private refusal(lines: readonly BudgetLine[], amount: number, previous: number): ReserveResult | undefined {
    if (amount <= previous) return undefined;
    for (const line of lines) {
      if (!line.hard) continue;
      const c = this.counter(line);
      if (c.spent + c.reserved - previous + amount > Math.round(line.limitUsd * UNITS_PER_USD)) {
        return { ok: false, exceeded: line, spentUsd: toUsd(c.spent), reservedUsd: toUsd(c.reserved) };
      }
    }
    return undefined;
  }

  private hold(requestId: string, held: Held): void {
    this.held.set(requestId, held);
    if (held.expiresAt < this.earliestExpiry) this.earliestExpiry = held.expiresAt;
  }

  private counter(line: BudgetLine): BudgetCounter {
    const periods = this.periods(line.budgetId);
    let counter = periods.get(line.periodStart);
    if (!counter) {
      counter = { spent: 0, reserved: 0 };
      periods.set(line.periodStart, counter);
    }
    return counter;
  }

  private periods(budgetId: string): Map<number, BudgetCounter> {
    let periods = this.budgets.get(budgetId);
    if (!periods) {
      periods = new Map();
      this.budgets.set(budgetId, periods);
    }
    return periods;
  }

  /**
   * Drops reservations nobody settled within the TTL (checked before every budget decision, O(1)
   * while none can have expired), and every minute the counters of past periods that hold nothing:
   * the store keeps their spend.
   */
  private expireHeld(now: number): void {
    if (now >= this.earliestExpiry) {
      let earliest = Number.POSITIVE_INFINITY;
      for (const [requestId, held] of this.held) {
        if (held.expiresAt > now) {
          earliest = Math.min(earliest, held.expiresAt);
          continue;
        }
        for (const line of held.lines) this.counter(line).reserved -= held.amount;
        this.held.delete(requestId);
      }
      this.earliestExpiry = earliest;
    }
    if (now >= this.nextPeriodSweep) {
      this.nextPeriodSweep = now + 60_000;
      for (const periods of this.budgets.values()) {
        if (periods.size < 2) continue;
        const latest = Math.max(...periods.keys());
        for (const [start, counter] of periods) if (start < latest && counter.reserved === 0) periods.delete(start);
      }
    }
  }

  private sweepLogs(now: number): void {
    if (now < this.nextLogSweep) return;
    this.nextLogSweep = now + LOG_SWEEP_MS;
    for (const [key, log] of this.logs) {
      log.evict(now);
      if (log.size === 0) this.logs.delete(key);
    }
  }

  private log(key: string, windowMs: number): SlidingLog {
    let log = this.logs.get(key);
    if (!log) {
      log = new SlidingLog(windowMs);
      this.logs.set(key, log);
    }
    return log;
  }
}

/** A window's state for `x-ratelimit-*` headers. */
function rateState(check: RateCheck, log: SlidingLog, now: number): RateState {
  return { key: check.key, limit: check.limit, remaining: Math.max(0, check.limit - log.sum), resetMs: log.resetMs(now) };
}

/** One line per (budget, period): the same budget listed twice must not be charged twice. */
export function uniqueLines(lines: readonly BudgetLine[]): readonly BudgetLine[] {
  if (lines.length < 2) return lines;
  const seen = new Set<string>();
  const out: BudgetLine[] = [];
  for (const line of lines) {
    const key = `${line.periodStart}|${line.budgetId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(line);
  }
  return out.length === lines.length ? lines : out;
}
