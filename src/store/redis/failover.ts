// What the gateway does with budgets and limits while Redis is unreachable. `fail_closed` (the
// default) refuses what cannot be enforced: a reservation against a HARD budget, any rate-limit hit
// and any concurrency slot get a 503 `counters_unavailable`, while soft-only and zero-cost
// reservations proceed on in-process counters. `local` falls back to in-process counters for
// everything (limits then hold per replica, not across replicas, until Redis is back). Either way
// settles, releases and token corrections made during the outage are applied locally, reported to
// the spend sink once, and replayed to Redis when it recovers.
import { GatewayError } from '../../core/errors.ts';
import { BoundedSet } from '../../governance/bounded-set.ts';
import {
  InMemoryCounters,
  type AcquireResult,
  type BudgetLine,
  type Counters,
  type HitResult,
  type RateCheck,
  type Reservation,
  type ReserveResult,
  type SettleOutcome,
  type SlotRequest,
} from '../../governance/counters.ts';
import { CountersUnavailableError, type RedisCounters } from './counters.ts';

export type CountersFailureMode = 'fail_closed' | 'local';

/** pino's `Logger` fits. */
export interface FailoverLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface FailoverCountersOptions {
  primary: RedisCounters;
  /** Default `fail_closed`. */
  mode?: CountersFailureMode;
  /**
   * The in-process counters used during an outage (default: new ones). Keep them free of a spend
   * sink: settles applied locally are reported to `primary.spendSink` by this class, once.
   */
  local?: InMemoryCounters;
  logger?: FailoverLogger;
  /** Operations kept for replay during an outage; beyond this the oldest are dropped (default 10 000). */
  maxReplayQueue?: number;
  /** How often Redis is probed during an outage (default 1000 ms). */
  probeIntervalMs?: number;
}

type Replay =
  | { op: 'settle'; reservation: Reservation; actualUsd: number }
  | { op: 'release'; reservation: Reservation }
  | { op: 'adjust'; key: string; windowMs: number; delta: number; at: number }
  | { op: 'seed'; budgetId: string; periodStart: number; spentUsd: number };

const consoleLogger: FailoverLogger = {
  warn: (obj, msg) => console.warn(msg, obj),
  info: (obj, msg) => console.info(msg, obj),
};

/** How many locally-held reservations are tracked (an abandoned one is eventually forgotten). */
const LOCAL_HELD_MEMORY = 100_000;

export class FailoverCounters implements Counters {
  readonly mode: CountersFailureMode;
  private readonly primary: RedisCounters;
  private readonly local: InMemoryCounters;
  private readonly logger: FailoverLogger;
  private readonly maxQueue: number;
  private readonly probeMs: number;
  /** Reservations made on the local counters (during an outage): they live there until finished. */
  private readonly localHeld = new BoundedSet(LOCAL_HELD_MEMORY);
  /** Concurrency slots taken locally, per key. */
  private readonly localSlots = new Map<string, number>();
  private queue: Replay[] = [];
  private down = false;
  private downSince = 0;
  private dropped = 0;
  private replayed = 0;
  private warnedDrop = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing: Promise<boolean> | undefined;

  constructor(options: FailoverCountersOptions) {
    this.primary = options.primary;
    this.mode = options.mode ?? 'fail_closed';
    this.local = options.local ?? new InMemoryCounters();
    this.logger = options.logger ?? consoleLogger;
    this.maxQueue = options.maxReplayQueue ?? 10_000;
    this.probeMs = options.probeIntervalMs ?? 1000;
  }

  /** True from the first failed Redis call until Redis answers again and the replay queue is empty. */
  get degraded(): boolean {
    return this.down;
  }

  get pendingReplays(): number {
    return this.queue.length;
  }

  /** Operations dropped from a full replay queue since start. */
  get droppedReplays(): number {
    return this.dropped;
  }

  async reserve(requestId: string, lines: readonly BudgetLine[], amountUsd: number): Promise<ReserveResult> {
    if (!this.down) {
      try {
        return await this.primary.reserve(requestId, lines, amountUsd);
      } catch (err) {
        this.onFailure(err);
      }
    }
    if (this.mode === 'fail_closed' && amountUsd > 0 && lines.some((l) => l.hard)) throw this.refusal('hard budgets');
    const result = await this.local.reserve(requestId, lines, amountUsd);
    if (result.ok) this.localHeld.add(requestId);
    return result;
  }

  async resize(reservation: Reservation, amountUsd: number): Promise<ReserveResult> {
    if (this.localHeld.has(reservation.requestId)) return this.resizeLocal(reservation, amountUsd);
    if (!this.down) {
      try {
        return await this.primary.resize(reservation, amountUsd);
      } catch (err) {
        this.onFailure(err);
      }
    }
    // The Redis hold cannot change now. Shrinking keeps the larger hold until the settle (safe);
    // growth is refused (fail_closed, hard lines) or checked and held on the local counters.
    if (amountUsd > reservation.amountUsd) {
      if (this.mode === 'fail_closed' && reservation.lines.some((l) => l.hard)) throw this.refusal('hard budgets');
      if (this.mode === 'local') {
        const local = await this.local.resize(reservation, amountUsd);
        if (!local.ok) return local;
      }
    }
    return { ok: true, reservation: { ...reservation, amountUsd } };
  }

  /**
   * A reservation made locally during an outage (soft or zero-cost under `fail_closed`). Growing it
   * onto a hard budget needs Redis: once Redis is back the reservation moves there (reserved
   * afresh at the new amount, atomically checked); while it is down, `fail_closed` refuses.
   */
  private async resizeLocal(reservation: Reservation, amountUsd: number): Promise<ReserveResult> {
    const growsHard = amountUsd > reservation.amountUsd && reservation.lines.some((l) => l.hard);
    if (!growsHard || (this.down && this.mode === 'local')) return this.local.resize(reservation, amountUsd);
    if (!this.down) {
      try {
        const moved = await this.primary.reserve(reservation.requestId, reservation.lines, amountUsd);
        if (moved.ok) {
          await this.local.release(reservation);
          this.localHeld.delete(reservation.requestId);
        }
        return moved;
      } catch (err) {
        this.onFailure(err);
      }
    }
    if (this.mode === 'local') return this.local.resize(reservation, amountUsd);
    throw this.refusal('hard budgets');
  }

  async settle(reservation: Reservation, actualUsd: number): Promise<SettleOutcome> {
    const { requestId } = reservation;
    const isLocal = this.localHeld.has(requestId);
    if (!isLocal && !this.down) {
      try {
        const outcome = await this.primary.settle(reservation, actualUsd);
        // Keep the local counters warm (and drop any local hold), for the next outage.
        if (outcome.applied) await this.local.settle(reservation, actualUsd);
        return outcome;
      } catch (err) {
        this.onFailure(err);
      }
    }
    const outcome = await this.local.settle(reservation, actualUsd);
    this.localHeld.delete(requestId);
    if (outcome.applied) {
      this.report(outcome, actualUsd);
      await this.toRedis({ op: 'settle', reservation, actualUsd });
    }
    return outcome;
  }

  async release(reservation: Reservation): Promise<void> {
    const { requestId } = reservation;
    if (this.localHeld.has(requestId)) {
      // Nothing of it is in Redis.
      await this.local.release(reservation);
      this.localHeld.delete(requestId);
      return;
    }
    await this.local.release(reservation);
    await this.toRedis({ op: 'release', reservation });
  }

  async spent(budgetId: string, periodStart: number): Promise<{ spentUsd: number; reservedUsd: number }> {
    if (!this.down) {
      try {
        return await this.primary.spent(budgetId, periodStart);
      } catch (err) {
        this.onFailure(err);
      }
    }
    if (this.mode === 'fail_closed') throw this.refusal('budget spend');
    return this.local.spent(budgetId, periodStart);
  }

  async seed(budgetId: string, periodStart: number, spentUsd: number): Promise<void> {
    await this.local.seed(budgetId, periodStart, spentUsd);
    await this.toRedis({ op: 'seed', budgetId, periodStart, spentUsd });
  }

  async hit(checks: readonly RateCheck[], now: number): Promise<HitResult> {
    if (!this.down) {
      try {
        return await this.primary.hit(checks, now);
      } catch (err) {
        this.onFailure(err);
      }
    }
    if (this.mode === 'fail_closed' && checks.length > 0) throw this.refusal('rate limits');
    return this.local.hit(checks, now);
  }

  async adjust(key: string, windowMs: number, delta: number, at: number): Promise<void> {
    if (delta === 0) return;
    if (!this.down) {
      try {
        return await this.primary.adjust(key, windowMs, delta, at);
      } catch (err) {
        this.onFailure(err);
      }
    }
    await this.local.adjust(key, windowMs, delta, at);
    this.enqueue({ op: 'adjust', key, windowMs, delta, at });
  }

  async acquire(slots: readonly SlotRequest[]): Promise<AcquireResult> {
    if (!this.down) {
      try {
        return await this.primary.acquire(slots);
      } catch (err) {
        this.onFailure(err);
      }
    }
    if (this.mode === 'fail_closed' && slots.length > 0) throw this.refusal('concurrency limits');
    const result = await this.local.acquire(slots);
    if (result.ok) for (const s of slots) this.localSlots.set(s.key, (this.localSlots.get(s.key) ?? 0) + 1);
    return result;
  }

  /**
   * Local slots go back locally. A Redis lease that cannot be released now is no longer renewed and
   * comes free by itself within the lease TTL, so it is not queued.
   */
  async releaseSlots(keys: readonly string[]): Promise<void> {
    const local: string[] = [];
    const shared: string[] = [];
    for (const key of keys) {
      const n = this.localSlots.get(key) ?? 0;
      if (n > 0) {
        if (n === 1) this.localSlots.delete(key);
        else this.localSlots.set(key, n - 1);
        local.push(key);
      } else {
        shared.push(key);
      }
    }
    if (local.length > 0) await this.local.releaseSlots(local);
    if (shared.length === 0) return;
    try {
      await this.primary.releaseSlots(shared);
    } catch (err) {
      this.onFailure(err);
    }
  }

  async usage(key: string, windowMs: number, now: number): Promise<number> {
    if (!this.down) {
      try {
        return await this.primary.usage(key, windowMs, now);
      } catch (err) {
        this.onFailure(err);
      }
    }
    if (this.mode === 'fail_closed') throw this.refusal('rate limits');
    return this.local.usage(key, windowMs, now);
  }

  /**
   * Probes Redis now; if it answers, replays the queue. Returns whether the counters are back on
   * Redis. (A timer does this every `probeIntervalMs` during an outage.)
   */
  recover(): Promise<boolean> {
    if (!this.down) return Promise.resolve(true);
    this.probing ??= this.probe().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  close(): void {
    this.stopProbing();
  }

  // --- outage handling ---------------------------------------------------------------------------

  /** Rethrows anything but unavailability; marks the start of an outage. */
  private onFailure(err: unknown): void {
    if (!(err instanceof CountersUnavailableError)) throw err;
    if (this.down) return;
    this.down = true;
    this.downSince = Date.now();
    this.warnedDrop = false;
    this.logger.warn(
      { err: err.message, mode: this.mode },
      this.mode === 'local'
        ? 'Redis counters unreachable: falling back to in-process counters (budgets and limits hold per replica until Redis recovers)'
        : 'Redis counters unreachable: refusing requests under hard budgets, rate and concurrency limits until Redis recovers (fail_closed)',
    );
    this.probeTimer = setInterval(() => void this.recover(), this.probeMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<boolean> {
    try {
      await this.primary.ping();
      while (this.queue.length > 0) {
        const op = this.queue[0];
        try {
          await this.apply(op);
          this.replayed++;
        } catch (err) {
          if (err instanceof CountersUnavailableError) return false;
          this.logger.warn({ err: String(err), op: op.op }, 'replaying a counters operation to Redis failed; dropped');
          this.dropped++;
        }
        // Dropped from the front only if still there (a full queue may have shifted it already).
        if (this.queue[0] === op) this.queue.shift();
      }
    } catch (err) {
      if (err instanceof CountersUnavailableError) return false;
      throw err;
    }
    this.down = false;
    this.stopProbing();
    this.logger.info({ outageMs: Date.now() - this.downSince, replayed: this.replayed, dropped: this.dropped }, 'Redis counters recovered; queued operations replayed');
    this.replayed = 0;
    return true;
  }

  private async apply(op: Replay): Promise<void> {
    switch (op.op) {
      case 'settle':
        // Already reported to the sink when applied locally.
        await this.primary.settle(op.reservation, op.actualUsd, { notify: false });
        return;
      case 'release':
        await this.primary.release(op.reservation);
        return;
      case 'adjust':
        await this.primary.adjust(op.key, op.windowMs, op.delta, op.at);
        return;
      case 'seed':
        await this.primary.seed(op.budgetId, op.periodStart, op.spentUsd);
        return;
    }
  }

  /** Applies now when Redis is up, else (or when that fails) queues for replay. */
  private async toRedis(op: Replay): Promise<void> {
    if (!this.down) {
      try {
        await this.apply(op);
        return;
      } catch (err) {
        this.onFailure(err);
      }
    }
    this.enqueue(op);
  }

  private enqueue(op: Replay): void {
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.dropped++;
      if (!this.warnedDrop) {
        this.warnedDrop = true;
        this.logger.warn({ maxReplayQueue: this.maxQueue }, 'counters replay queue full: dropping the oldest operations (Redis will undercount them)');
      }
    }
    this.queue.push(op);
  }

  private report(outcome: SettleOutcome, actualUsd: number): void {
    const sink = this.primary.spendSink;
    // Nano-dollar rounding, as the counters themselves charge.
    const deltaUsd = Math.round(actualUsd * 1e9) / 1e9;
    if (!sink || deltaUsd <= 0) return;
    try {
      sink(outcome.lines.map(({ line }) => ({ budgetId: line.budgetId, periodStart: line.periodStart, deltaUsd })));
    } catch (err) {
      this.primary.sinkErrorHandler?.(err);
    }
  }

  private refusal(what: string): GatewayError {
    return new GatewayError(
      'overloaded',
      `The shared counters (Redis) are unreachable, so ${what} cannot be enforced across gateway replicas; the request is refused rather than risked. Retry shortly.`,
      { code: 'counters_unavailable', retryAfterMs: Math.max(1000, this.probeMs) },
    );
  }

  private stopProbing(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}
