// `Counters` shared by every gateway replica through Redis: budgets, sliding-window rate limits and
// concurrency slots. Each operation is one Lua script (see scripts.ts), so "60 rpm" means 60 across
// all replicas and a hard budget is never over-reserved, whatever the number of replicas.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  reportSpend,
  toUnits,
  UNITS_PER_USD,
  toUsd,
  uniqueLines,
  type AcquireResult,
  type BudgetLine,
  type Counters,
  type HitResult,
  type RateCheck,
  type RateState,
  type Reservation,
  type ReserveResult,
  type SettleOutcome,
  type SlotRequest,
  type SpendSink,
} from '../../governance/counters.ts';
import { tickEnd, tickMs } from '../../governance/sliding-log.ts';
import { SCRIPTS, type ScriptName } from './scripts.ts';

export interface RedisCountersOptions {
  /** A connection from `connectRedis` (commands fail fast while Redis is down). */
  redis: Redis;
  /**
   * Prepended verbatim to every key, e.g. `switchyard:{prod}:`. Replicas sharing counters must use
   * the same prefix; for Redis Cluster it must contain a hash tag (all keys of a call share a slot).
   */
  prefix: string;
  /** Receives spend settled by THIS replica (each settle is reported by exactly one replica). */
  onSettle?: SpendSink;
  /** Called when the sink throws; the settle itself has already been applied. */
  onSinkError?: (error: unknown) => void;
  /** A reservation nobody settles or releases stops holding money after this long (default 30 min). */
  reservationTtlMs?: number;
  /**
   * Clock for reservation expiry and slot leases. Default: none, and the scripts read the Redis
   * server's clock (`TIME`), one clock for all replicas. Inject one only in tests.
   */
  now?: () => number;
  /** How long settled/released request ids are remembered for idempotency (default 1 h). */
  settledTtlMs?: number;
  /** Counters of periodic budgets expire this long after their last write (default 35 days). */
  periodCounterTtlMs?: number;
  /** A concurrency slot not renewed for this long is free again (default 30 s). */
  slotLeaseTtlMs?: number;
  /** How often this replica renews the slots it holds (default a third of the lease; 0: never). */
  slotRenewIntervalMs?: number;
  /** Background failures (lease renewal), for logging. */
  onError?: (error: unknown) => void;
}

/** Redis could not be reached or did not answer: the operation may or may not have been applied. */
export class CountersUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`Redis counters unavailable (${operation}): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'CountersUnavailableError';
  }
}

const DEFAULT_RESERVATION_TTL_MS = 30 * 60_000;
const DEFAULT_SETTLED_TTL_MS = 60 * 60_000;
const DEFAULT_PERIOD_COUNTER_TTL_MS = 35 * 24 * 3_600_000;
const DEFAULT_SLOT_LEASE_TTL_MS = 30_000;
/** Request records, window logs and lease sets outlive their logical life by this (clock skew). */
const GC_MARGIN_MS = 60_000;

type ScriptArg = string | number;
type ScriptFn = (...args: ScriptArg[]) => Promise<unknown>;

export class RedisCounters implements Counters {
  readonly redis: Redis;
  readonly prefix: string;
  private readonly scripts = new Map<ScriptName, ScriptFn>();
  private readonly ttlMs: number;
  private readonly settledTtlMs: number;
  private readonly periodTtlMs: number;
  private readonly leaseTtlMs: number;
  private readonly renewMs: number;
  /** Leases this replica holds, per slot key, newest last. */
  private readonly leases = new Map<string, string[]>();
  private readonly instance = randomBytes(6).toString('base64url');
  private leaseSeq = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(private readonly options: RedisCountersOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.ttlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
    this.settledTtlMs = options.settledTtlMs ?? DEFAULT_SETTLED_TTL_MS;
    this.periodTtlMs = options.periodCounterTtlMs ?? DEFAULT_PERIOD_COUNTER_TTL_MS;
    this.leaseTtlMs = options.slotLeaseTtlMs ?? DEFAULT_SLOT_LEASE_TTL_MS;
    this.renewMs = options.slotRenewIntervalMs ?? Math.max(1, Math.floor(this.leaseTtlMs / 3));
    for (const [name, lua] of Object.entries(SCRIPTS) as Array<[ScriptName, string]>) {
      this.redis.defineCommand(name, { lua });
      const fn: unknown = Reflect.get(this.redis, name);
      if (typeof fn !== 'function') throw new Error(`ioredis did not define the ${name} script command`);
      this.scripts.set(name, (...args) => Reflect.apply(fn, this.redis, args) as Promise<unknown>);
    }
  }

  /** The sink settled spend goes to (FailoverCounters reports its local settles there too). */
  get spendSink(): SpendSink | undefined {
    return this.options.onSettle;
  }

  get sinkErrorHandler(): ((error: unknown) => void) | undefined {
    return this.options.onSinkError;
  }

  async reserve(requestId: string, lines: readonly BudgetLine[], amountUsd: number): Promise<ReserveResult> {
    const amount = toUnits(amountUsd, 'reservation amount');
    const unique = uniqueLines(lines);
    const reply = await this.run('switchyardReserve', this.holdKeys(requestId, unique), this.holdArgs(requestId, amount, unique));
    const [status, index, spent, reserved] = array(reply);
    if (status === 'duplicate') throw new Error(`request ${requestId} already has a reservation`);
    if (status === 'refused') return refusal(unique, index, spent, reserved);
    return { ok: true, reservation: { requestId, lines: unique, amountUsd } };
  }

  async resize(reservation: Reservation, amountUsd: number): Promise<ReserveResult> {
    const amount = toUnits(amountUsd, 'reservation amount');
    const { requestId } = reservation;
    const lines = uniqueLines(reservation.lines);
    const reply = await this.run('switchyardResize', this.holdKeys(requestId, lines), this.holdArgs(requestId, amount, lines));
    const [status, index, spent, reserved] = array(reply);
    if (status === 'finished') throw new Error(`request ${requestId} is already settled or released`);
    if (status === 'refused') return refusal(lines, index, spent, reserved);
    return { ok: true, reservation: { requestId, lines, amountUsd } };
  }

  /**
   * `notify: false` applies the settle without reporting it to the sink: for a settle that was
   * already reported when it was applied locally during an outage and is now replayed.
   */
  async settle(reservation: Reservation, actualUsd: number, options: { notify?: boolean } = {}): Promise<SettleOutcome> {
    const actual = toUnits(actualUsd, 'actual cost');
    const { requestId } = reservation;
    const lines = uniqueLines(reservation.lines);
    const reply = await this.run('switchyardSettle', this.holdKeys(requestId, lines), [
      requestId,
      int(actual),
      this.settledTtlMs,
      this.periodTtlMs,
      ...lines.map((l) => (l.periodStart === 0 ? '0' : '1')),
    ]);
    const [applied, ...spent] = array(reply);
    const out: SettleOutcome = { applied: Number(applied) === 1, lines: lines.map((line, i) => ({ line, spentUsd: toUsd(Number(spent[i] ?? 0)) })) };
    if (out.applied && actual > 0 && options.notify !== false) reportSpend(this.options, lines, toUsd(actual));
    return out;
  }

  async release(reservation: Reservation): Promise<void> {
    const lines = uniqueLines(reservation.lines);
    await this.run('switchyardRelease', this.holdKeys(reservation.requestId, lines), [reservation.requestId, this.settledTtlMs]);
  }

  async spent(budgetId: string, periodStart: number): Promise<{ spentUsd: number; reservedUsd: number }> {
    const reply = await this.run('switchyardSpent', this.lineKeys(budgetId, periodStart), [this.clockArg()]);
    const [spent, reserved] = array(reply);
    return { spentUsd: toUsd(Number(spent)), reservedUsd: toUsd(Number(reserved)) };
  }

  async seed(budgetId: string, periodStart: number, spentUsd: number): Promise<void> {
    const spent = toUnits(spentUsd, 'seeded spend');
    await this.run('switchyardSeed', [this.lineKeys(budgetId, periodStart)[0]], [int(spent), periodStart === 0 ? '0' : '1', this.periodTtlMs]);
  }

  async hit(checks: readonly RateCheck[], now: number): Promise<HitResult> {
    if (checks.length === 0) return { ok: true, states: [] };
    const keys: string[] = [];
    const args: ScriptArg[] = [num(now), GC_MARGIN_MS];
    for (const c of checks) {
      keys.push(...this.windowKeys(c.key));
      args.push(num(c.limit), num(c.windowMs), num(c.cost), num(tickEnd(now, c.windowMs)));
    }
    const reply = array(await this.run('switchyardHit', keys, args));
    if (Number(reply[0]) === 1) return { ok: true, states: states(checks, reply.slice(1)) };
    const check = checks[Number(reply[1]) - 1];
    return {
      ok: false,
      key: check.key,
      limit: check.limit,
      remaining: Number(reply[2]),
      retryAfterMs: Number(reply[3]),
      states: states(checks, reply.slice(4)),
    };
  }

  async adjust(key: string, windowMs: number, delta: number, at: number): Promise<void> {
    if (delta === 0) return;
    await this.run('switchyardAdjust', this.windowKeys(key), [num(tickEnd(at, windowMs)), num(delta), windowMs + tickMs(windowMs) + GC_MARGIN_MS]);
  }

  async usage(key: string, windowMs: number, now: number): Promise<number> {
    return Number(await this.run('switchyardUsage', this.windowKeys(key), [num(now), num(windowMs)]));
  }

  /**
   * Takes one lease under every key, or none. A lease lives `slotLeaseTtlMs` and this replica
   * renews the leases it holds, so a crashed replica's slots come free within one lease TTL.
   */
  async acquire(slots: readonly SlotRequest[]): Promise<AcquireResult> {
    if (slots.length === 0) return { ok: true };
    const member = `${this.instance}:${++this.leaseSeq}`;
    const reply = array(
      await this.run(
        'switchyardAcquire',
        slots.map((s) => this.slotKey(s.key)),
        [this.clockArg(), this.leaseTtlMs, this.leaseTtlMs + GC_MARGIN_MS, member, ...slots.map((s) => num(s.max))],
      ),
    );
    if (Number(reply[0]) !== 1) {
      const slot = slots[Number(reply[1]) - 1];
      return { ok: false, key: slot.key, max: slot.max };
    }
    slots.forEach((s, i) => {
      const held = this.leases.get(s.key);
      const lease = `${member}:${i + 1}`;
      if (held) held.push(lease);
      else this.leases.set(s.key, [lease]);
    });
    this.startRenewing();
    return { ok: true };
  }

  /**
   * Gives back one lease of this replica under each key. The leases are forgotten (no longer
   * renewed) before the round trip, so if Redis is unreachable they still come free within a TTL.
   */
  async releaseSlots(keys: readonly string[]): Promise<void> {
    const slotKeys: string[] = [];
    const members: string[] = [];
    for (const key of keys) {
      const held = this.leases.get(key);
      const member = held?.pop();
      if (!held || member === undefined) continue;
      if (held.length === 0) this.leases.delete(key);
      slotKeys.push(this.slotKey(key));
      members.push(member);
    }
    if (this.leases.size === 0) this.stopRenewing();
    if (slotKeys.length > 0) await this.run('switchyardReleaseSlots', slotKeys, members);
  }

  /** Extends every lease this replica holds; returns how many had already expired (were lost). */
  async renewLeases(): Promise<number> {
    if (this.leases.size === 0) return 0;
    const keys: string[] = [];
    const members: string[] = [];
    for (const [key, held] of this.leases) {
      keys.push(this.slotKey(key));
      members.push(held.join(' '));
    }
    return Number(await this.run('switchyardRenew', keys, [this.clockArg(), this.leaseTtlMs, this.leaseTtlMs + GC_MARGIN_MS, ...members]));
  }

  /** One round trip to Redis, throwing `CountersUnavailableError` when it is unreachable. */
  async ping(): Promise<void> {
    try {
      await this.redis.ping();
    } catch (err) {
      throw new CountersUnavailableError('ping', err);
    }
  }

  /** Stops renewing leases (the connection belongs to the caller). Leases then expire in Redis. */
  close(): void {
    this.stopRenewing();
  }

  // --- keys ------------------------------------------------------------------------------------
  // `b:<periodStart>:<budgetId>` (hash: spent, reserved), `bh:…` (hash: requestId → held amount),
  // `be:…` (zset: requestId by hold expiry), `r:<requestId>` (live reservation record),
  // `d:<requestId>` (settled/released marker), `wt:<key>` (zset of ticks), `wtm:<key>` (hash: sum, cost per tick),
  // `c:<key>` (zset: lease by expiry). The period start is numeric, so budget ids cannot collide.

  private lineKeys(budgetId: string, periodStart: number): [string, string, string] {
    const id = `${periodStart}:${budgetId}`;
    return [`${this.prefix}b:${id}`, `${this.prefix}bh:${id}`, `${this.prefix}be:${id}`];
  }

  private holdKeys(requestId: string, lines: readonly BudgetLine[]): string[] {
    const keys = [`${this.prefix}r:${requestId}`, `${this.prefix}d:${requestId}`];
    for (const line of lines) keys.push(...this.lineKeys(line.budgetId, line.periodStart));
    return keys;
  }

  /** ARGV of the scripts that hold a reservation (reserve and resize): the same layout for both. */
  private holdArgs(requestId: string, amount: number, lines: readonly BudgetLine[]): ScriptArg[] {
    return [requestId, int(amount), this.clockArg(), this.ttlMs, this.ttlMs + GC_MARGIN_MS, this.periodTtlMs, ...this.lineArgs(lines)];
  }

  private lineArgs(lines: readonly BudgetLine[]): string[] {
    const args: string[] = [];
    for (const line of lines) {
      // A limit beyond 2^53 units (~$9M) cannot be reached by exact counters anyway.
      const limit = Math.min(Math.round(line.limitUsd * UNITS_PER_USD), Number.MAX_SAFE_INTEGER);
      args.push(int(Math.max(limit, Number.MIN_SAFE_INTEGER)), line.hard ? '1' : '0', line.periodStart === 0 ? '0' : '1');
    }
    return args;
  }

  /**
   * A window's sorted set of ticks and its hash of sums. Named apart from the per-hit logs of
   * releases before the ticks (`w:`, `wm:`), which these scripts cannot read and must not mix with.
   */
  private windowKeys(key: string): [string, string] {
    return [`${this.prefix}wt:${key}`, `${this.prefix}wtm:${key}`];
  }

  private slotKey(key: string): string {
    return `${this.prefix}c:${key}`;
  }

  // --- plumbing --------------------------------------------------------------------------------

  private clockArg(): string {
    return this.options.now ? num(this.options.now()) : '';
  }

  private async run(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`unknown script ${name}`);
    try {
      return await script(keys.length, ...keys, ...args);
    } catch (err) {
      throw new CountersUnavailableError(name, err);
    }
  }

  private startRenewing(): void {
    if (this.renewTimer || this.renewMs <= 0) return;
    this.renewTimer = setInterval(() => void this.renewInBackground(), this.renewMs);
    this.renewTimer.unref();
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private async renewInBackground(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const lost = await this.renewLeases();
      if (lost > 0) this.options.onError?.(new Error(`${lost} concurrency slot lease(s) expired before renewal`));
    } catch (err) {
      this.options.onError?.(err);
    } finally {
      this.renewing = false;
    }
  }
}

function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`amount out of range: ${n} units`);
  return String(n);
}

/** A plain decimal (no exponent) for integers; Redis and Lua also accept the other forms. */
function num(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  return Number.isSafeInteger(n) ? String(n) : n.toPrecision(17);
}

function array(reply: unknown): Array<string | number> {
  if (!Array.isArray(reply)) throw new Error(`unexpected script reply: ${String(reply)}`);
  return reply.map((v: unknown) => (typeof v === 'number' ? v : String(v)));
}

function refusal(lines: readonly BudgetLine[], index: string | number | undefined, spent: string | number | undefined, reserved: string | number | undefined): ReserveResult {
  return { ok: false, exceeded: lines[Number(index) - 1], spentUsd: toUsd(Number(spent)), reservedUsd: toUsd(Number(reserved)) };
}

function states(checks: readonly RateCheck[], flat: ReadonlyArray<string | number>): RateState[] {
  return checks.map((c, i) => ({ key: c.key, limit: c.limit, remaining: Number(flat[2 * i]), resetMs: Number(flat[2 * i + 1]) }));
}

