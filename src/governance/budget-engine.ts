// Spend budgets on the request path: reserve the request's maximum cost against every budget that
// applies (key, user, team, org) for their current periods, resize on failover, settle the actual
// cost, and raise threshold alerts once per threshold per period.
import { GatewayError } from '../core/errors.ts';
import { BoundedSet } from './bounded-set.ts';
import type { BudgetLine, Counters, Reservation, SettleOutcome } from './counters.ts';
import { isoInZone, periodWindow } from './periods.ts';
import type { Budget, BudgetPeriod, BudgetScope } from './types.ts';

/** A budget as applied to one request: its counter line for the current period. */
export interface AppliedBudget {
  budget: Budget;
  line: BudgetLine;
  /** When the period ends and the budget resets (epoch ms); Infinity for `total`. */
  periodEnd: number;
}

/** What a request holds while it runs; pass it back to `resize`, `settle` or `release`. */
export interface BudgetReservation {
  readonly requestId: string;
  readonly amountUsd: number;
  /** Most specific first: key, user, team, org. */
  readonly applied: readonly AppliedBudget[];
  readonly timezone: string;
  readonly counted: Reservation;
}

export type BudgetDecision =
  | { ok: true; reservation: BudgetReservation }
  | { ok: false; error: GatewayError; budget: Budget; resetAt: number };

/** Emitted when a period's spend first reaches one of a budget's alert thresholds. */
export interface BudgetAlert {
  type: 'budget.threshold';
  budget: Budget;
  /** The fraction of `maxUsd` reached, e.g. 0.8. */
  threshold: number;
  spentUsd: number;
  limitUsd: number;
  periodStart: number;
  /** Infinity for `total` budgets. */
  periodEnd: number;
  timezone: string;
  ts: number;
}

/** Which thresholds were already delivered in a period (`GovernanceStore.getSpend`/`markAlerted`). */
export interface AlertLedger {
  alreadyAlerted(budgetId: string, periodStart: number, threshold: number): boolean | Promise<boolean>;
  /** Records the threshold; returning `false` means someone else recorded it first (no alert is sent). */
  markAlerted(budgetId: string, periodStart: number, threshold: number): boolean | void | Promise<boolean | void>;
}

export interface BudgetEngineOptions {
  counters: Counters;
  /** Durable record of delivered alerts; without it, alerts are de-duplicated in memory only. */
  ledger?: AlertLedger;
  onAlert?: (alert: BudgetAlert) => void;
  /** Ledger or listener failures: alerting never fails a request. */
  onError?: (error: unknown) => void;
}

const SCOPE_ORDER: Readonly<Record<BudgetScope, number>> = { key: 0, user: 1, team: 2, org: 3 };
const PERIOD_PHRASE: Readonly<Record<BudgetPeriod, string>> = { daily: 'per day', weekly: 'per week', monthly: 'per month', total: 'in total' };
const UNITS = 1e9;
const ALERT_MEMORY = 10_000;
const TRAILING_ZEROS = /0+$/;

export class BudgetEngine {
  private readonly counters: Counters;
  /** Alerts decided in this process (sent or in flight), so concurrent settles cannot both send one. */
  private readonly alerted = new BoundedSet(ALERT_MEMORY);

  constructor(private readonly options: BudgetEngineOptions) {
    this.counters = options.counters;
  }

  /** The counter lines of these budgets for the periods containing `now`, most specific first. */
  apply(budgets: readonly Budget[], now: number, timezone: string): AppliedBudget[] {
    return [...budgets]
      .sort((a, b) => SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope])
      .map((budget) => {
        const window = periodWindow(budget.period, timezone, now);
        return {
          budget,
          line: { budgetId: budget.id, periodStart: window.start, limitUsd: budget.maxUsd, hard: budget.hard },
          periodEnd: window.end,
        };
      });
  }

  /**
   * Reserves `amountUsd` (the request's maximum cost) on every budget that applies, or refuses
   * with a `budget_exceeded` error naming the first hard budget it would exceed and when that
   * budget resets. A zero amount (local models) is never refused. `timezone` is the org's.
   */
  async reserve(requestId: string, budgets: readonly Budget[], amountUsd: number, now: number, timezone: string): Promise<BudgetDecision> {
    const applied = this.apply(budgets, now, timezone);
    const result = await this.counters.reserve(
      requestId,
      applied.map((a) => a.line),
      amountUsd,
    );
    if (!result.ok) return this.refuse(applied, result.exceeded, result.spentUsd, result.reservedUsd, amountUsd, timezone);
    return { ok: true, reservation: { requestId, amountUsd, applied, timezone, counted: result.reservation } };
  }

  /** Changes the held amount (failover to a deployment with another price); refused like `reserve`. */
  async resize(reservation: BudgetReservation, amountUsd: number): Promise<BudgetDecision> {
    const result = await this.counters.resize(reservation.counted, amountUsd);
    if (!result.ok) return this.refuse(reservation.applied, result.exceeded, result.spentUsd, result.reservedUsd, amountUsd, reservation.timezone);
    return { ok: true, reservation: { ...reservation, amountUsd, counted: result.reservation } };
  }

  /**
   * Charges the actual cost and releases the rest (idempotent), then raises the alerts whose
   * thresholds the spend reached for the first time in the period. Returns the alerts raised.
   */
  async settle(reservation: BudgetReservation, actualUsd: number, now: number): Promise<BudgetAlert[]> {
    const outcome = await this.counters.settle(reservation.counted, actualUsd);
    if (!outcome.applied || actualUsd <= 0) return [];
    return this.alert(reservation, outcome, now);
  }

  /** Drops the reservation without charging (the request failed, or the client went away first). */
  async release(reservation: BudgetReservation): Promise<void> {
    await this.counters.release(reservation.counted);
  }

  /** Spend of each budget in its current period, for the admin API and response headers. */
  async status(
    budgets: readonly Budget[],
    now: number,
    timezone: string,
  ): Promise<Array<AppliedBudget & { spentUsd: number; reservedUsd: number; remainingUsd: number }>> {
    return Promise.all(
      this.apply(budgets, now, timezone).map(async (a) => {
        const { spentUsd, reservedUsd } = await this.counters.spent(a.line.budgetId, a.line.periodStart);
        return { ...a, spentUsd, reservedUsd, remainingUsd: Math.max(0, a.budget.maxUsd - spentUsd - reservedUsd) };
      }),
    );
  }

  private refuse(
    applied: readonly AppliedBudget[],
    exceeded: BudgetLine,
    spentUsd: number,
    reservedUsd: number,
    amountUsd: number,
    timezone: string,
  ): BudgetDecision {
    const hit = applied.find((a) => a.line.budgetId === exceeded.budgetId);
    if (!hit) throw new Error(`counters refused unknown budget ${exceeded.budgetId}`);
    const { budget, periodEnd } = hit;
    const resets = Number.isFinite(periodEnd) ? `It resets at ${isoInZone(periodEnd, timezone)}.` : 'It is a total budget and does not reset.';
    const message =
      `Budget exceeded: budget ${budget.id} (${budget.scope} ${budget.scopeId}, ${usd(budget.maxUsd)} ${PERIOD_PHRASE[budget.period]}) ` +
      `has ${usd(spentUsd)} spent and ${usd(reservedUsd)} held by requests in flight; this request may cost up to ${usd(amountUsd)}. ${resets}`;
    return { ok: false, error: new GatewayError('budget_exceeded', message, { code: 'budget_exceeded' }), budget, resetAt: periodEnd };
  }

  private async alert(reservation: BudgetReservation, outcome: SettleOutcome, now: number): Promise<BudgetAlert[]> {
    const alerts: BudgetAlert[] = [];
    for (const { line, spentUsd } of outcome.lines) {
      const applied = reservation.applied.find((a) => a.line.budgetId === line.budgetId && a.line.periodStart === line.periodStart);
      if (!applied) continue;
      const { budget } = applied;
      if (budget.maxUsd <= 0 || budget.alertThresholds.length === 0) continue;
      // Only the highest threshold reached is considered: spend never falls within a period, so a
      // lower one left unsent was jumped over and stays implied by the higher one.
      const spent = Math.round(spentUsd * UNITS);
      const threshold = highestReached(budget.alertThresholds, budget.maxUsd, spent);
      if (threshold === undefined) continue;
      const key = `${budget.id}|${line.periodStart}|${threshold}`;
      if (this.alerted.has(key)) continue;
      this.alerted.add(key);
      try {
        if (await this.options.ledger?.alreadyAlerted(budget.id, line.periodStart, threshold)) continue;
        if ((await this.options.ledger?.markAlerted(budget.id, line.periodStart, threshold)) === false) continue;
        const alert: BudgetAlert = {
          type: 'budget.threshold',
          budget,
          threshold,
          spentUsd,
          limitUsd: budget.maxUsd,
          periodStart: line.periodStart,
          periodEnd: applied.periodEnd,
          timezone: reservation.timezone,
          ts: now,
        };
        alerts.push(alert);
        this.options.onAlert?.(alert);
      } catch (err) {
        this.alerted.delete(key);
        this.options.onError?.(err);
      }
    }
    return alerts;
  }
}

function highestReached(thresholds: readonly number[], maxUsd: number, spentUnits: number): number | undefined {
  let best: number | undefined;
  for (const t of thresholds) {
    if (t > 0 && spentUnits >= Math.round(t * maxUsd * UNITS) && (best === undefined || t > best)) best = t;
  }
  return best;
}

/** `$1.50`; below a cent, up to eight decimals (`$0.0012`) so small amounts do not print as $0.00. */
function usd(amount: number): string {
  if (amount === 0 || Math.abs(amount) >= 0.01) return `$${amount.toFixed(2)}`;
  return `$${amount.toFixed(8).replace(TRAILING_ZEROS, '')}`;
}
