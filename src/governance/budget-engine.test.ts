import { describe, expect, it } from 'vitest';
import { GatewayError } from '../core/errors.ts';
import { BudgetEngine, type AlertLedger, type BudgetAlert, type BudgetDecision, type BudgetReservation } from './budget-engine.ts';
import { InMemoryCounters } from './counters.ts';
import type { Budget } from './types.ts';

const NOW = Date.parse('2024-03-15T12:00:00Z');
const BERLIN = 'Europe/Berlin';

function budget(over: Partial<Budget> & Pick<Budget, 'id' | 'scope'>): Budget {
  return { orgId: 'org_1', scopeId: `${over.scope}_1`, maxUsd: 10, period: 'monthly', hard: true, alertThresholds: [], createdAt: 0, ...over };
}

function setup(options: { ledger?: AlertLedger } = {}): { engine: BudgetEngine; counters: InMemoryCounters; alerts: BudgetAlert[] } {
  const counters = new InMemoryCounters();
  const alerts: BudgetAlert[] = [];
  const engine = new BudgetEngine({ counters, onAlert: (a) => alerts.push(a), ...options });
  return { engine, counters, alerts };
}

function admitted(decision: BudgetDecision): BudgetReservation {
  if (!decision.ok) throw decision.error;
  return decision.reservation;
}

function refused(decision: BudgetDecision): GatewayError {
  if (decision.ok) throw new Error('expected a refusal');
  return decision.error;
}

describe('BudgetEngine.reserve', () => {
  it('reserves on every budget for its current period in the org time zone', async () => {
    const { engine, counters } = setup();
    const budgets = [budget({ id: 'org', scope: 'org', maxUsd: 1000 }), budget({ id: 'key', scope: 'key', period: 'daily' }), budget({ id: 'tot', scope: 'team', period: 'total' })];
    const r = admitted(await engine.reserve('req1', budgets, 0.5, NOW, 'America/New_York'));
    expect(r.applied.map((a) => [a.budget.id, new Date(a.line.periodStart).toISOString()])).toEqual([
      ['key', '2024-03-15T04:00:00.000Z'],
      ['tot', '1970-01-01T00:00:00.000Z'],
      ['org', '2024-03-01T05:00:00.000Z'],
    ]);
    expect(await counters.spent('key', Date.parse('2024-03-15T04:00:00Z'))).toEqual({ spentUsd: 0, reservedUsd: 0.5 });
  });

  it('refuses with budget_exceeded naming the budget, its limit and period, and its reset time', async () => {
    const { engine } = setup();
    const team = budget({ id: 'bud_team', scope: 'team', scopeId: 'team_eng', maxUsd: 100 });
    await engine.settle(admitted(await engine.reserve('a', [team], 99.95, NOW, BERLIN)), 99.95, NOW);
    const error = refused(await engine.reserve('b', [team], 0.1, NOW, BERLIN));
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.errorClass).toBe('budget_exceeded');
    expect(error.code).toBe('budget_exceeded');
    expect(error.status).toBe(429);
    expect(error.message).toBe(
      'Budget exceeded: budget bud_team (team team_eng, $100.00 per month) has $99.95 spent and $0.00 held by requests in flight; ' +
        'this request may cost up to $0.10. It resets at 2024-04-01T00:00:00+02:00.',
    );
    expect(error.toOpenAI().error).toMatchObject({ type: 'budget_exceeded', code: 'budget_exceeded' });
  });

  it('returns the budget and its reset time with the refusal', async () => {
    const { engine } = setup();
    const daily = budget({ id: 'd', scope: 'user', maxUsd: 0.001, period: 'daily' });
    const decision = await engine.reserve('a', [daily], 0.01, NOW, BERLIN);
    expect(decision).toMatchObject({ ok: false, budget: daily, resetAt: Date.parse('2024-03-15T23:00:00Z') });
    expect(refused(decision).message).toContain('user user_1, $0.001 per day)');
    expect(refused(decision).message).toContain('It resets at 2024-03-16T00:00:00+01:00.');
  });

  it('says a total budget does not reset', async () => {
    const { engine } = setup();
    const total = budget({ id: 'lifetime', scope: 'key', period: 'total', maxUsd: 5 });
    const error = refused(await engine.reserve('a', [total], 6, NOW, BERLIN));
    expect(error.message).toContain('budget lifetime (key key_1, $5.00 in total)');
    expect(error.message).toContain('It is a total budget and does not reset.');
  });

  it('names the most specific budget when several are exceeded', async () => {
    const { engine } = setup();
    const budgets = [budget({ id: 'o', scope: 'org', maxUsd: 1 }), budget({ id: 't', scope: 'team', maxUsd: 1 }), budget({ id: 'k', scope: 'key', maxUsd: 1 })];
    expect(refused(await engine.reserve('a', budgets, 2, NOW, BERLIN)).message).toContain('budget k (key key_1');
  });

  it('never blocks zero-cost requests, even on exhausted budgets', async () => {
    const { engine } = setup();
    const b = budget({ id: 'b', scope: 'key', maxUsd: 1 });
    await engine.settle(admitted(await engine.reserve('a', [b], 1, NOW, BERLIN)), 3, NOW);
    const local = admitted(await engine.reserve('local', [b], 0, NOW, BERLIN));
    expect(await engine.settle(local, 0, NOW)).toEqual([]);
  });

  it('soft budgets never refuse', async () => {
    const { engine } = setup();
    const soft = budget({ id: 's', scope: 'org', maxUsd: 1, hard: false });
    expect((await engine.reserve('a', [soft], 5, NOW, BERLIN)).ok).toBe(true);
  });

  it('works with no budgets at all', async () => {
    const { engine } = setup();
    const r = admitted(await engine.reserve('a', [], 5, NOW, BERLIN));
    expect(await engine.settle(r, 5, NOW)).toEqual([]);
  });
});

describe('BudgetEngine.resize / release / status', () => {
  it('resizes on failover and refuses a growth past a hard budget with the same message', async () => {
    const { engine } = setup();
    const b = budget({ id: 'b', scope: 'key', maxUsd: 1 });
    const r = admitted(await engine.reserve('a', [b], 0.2, NOW, BERLIN));
    const grown = admitted(await engine.resize(r, 0.9));
    expect(grown.amountUsd).toBe(0.9);
    const error = refused(await engine.resize(grown, 1.5));
    expect(error.message).toContain('this request may cost up to $1.50');
    await engine.release(grown);
    const [status] = await engine.status([b], NOW, BERLIN);
    expect(status).toMatchObject({ spentUsd: 0, reservedUsd: 0, remainingUsd: 1, periodEnd: Date.parse('2024-03-31T22:00:00Z') });
  });
});

describe('threshold alerts', () => {
  const alerting = budget({ id: 'b', scope: 'team', maxUsd: 100, alertThresholds: [0.5, 0.8, 1] });

  async function spend(engine: BudgetEngine, id: string, usd: number, now = NOW, b = alerting): Promise<BudgetAlert[]> {
    return engine.settle(admitted(await engine.reserve(id, [b], 0, now, BERLIN)), usd, now);
  }

  it('fires each threshold once per period, as spend first reaches it', async () => {
    const { engine, alerts } = setup();
    expect(await spend(engine, 'a', 40)).toEqual([]);
    expect((await spend(engine, 'b', 10)).map((a) => a.threshold)).toEqual([0.5]);
    expect(await spend(engine, 'c', 10)).toEqual([]);
    expect((await spend(engine, 'd', 25)).map((a) => a.threshold)).toEqual([0.8]);
    expect((await spend(engine, 'e', 15)).map((a) => a.threshold)).toEqual([1]);
    expect(await spend(engine, 'f', 50)).toEqual([]);
    expect(alerts.map((a) => a.threshold)).toEqual([0.5, 0.8, 1]);
    expect(alerts[2]).toEqual({
      type: 'budget.threshold',
      budget: alerting,
      threshold: 1,
      spentUsd: 100,
      limitUsd: 100,
      periodStart: Date.parse('2024-02-29T23:00:00Z'),
      periodEnd: Date.parse('2024-03-31T22:00:00Z'),
      timezone: BERLIN,
      ts: NOW,
    });
  });

  it('a jump past several thresholds sends only the highest', async () => {
    const { engine, alerts } = setup();
    await spend(engine, 'a', 95);
    await spend(engine, 'b', 1);
    expect(alerts.map((a) => a.threshold)).toEqual([0.8]);
  });

  it('fires again in the next period', async () => {
    const { engine, alerts } = setup();
    await spend(engine, 'a', 60);
    await spend(engine, 'b', 60, Date.parse('2024-04-15T12:00:00Z'));
    expect(alerts.map((a) => [a.threshold, new Date(a.periodStart).toISOString()])).toEqual([
      [0.5, '2024-02-29T23:00:00.000Z'],
      [0.5, '2024-03-31T22:00:00.000Z'],
    ]);
  });

  it('does not double-fire when concurrent settles cross the same threshold', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const marked: number[] = [];
    const ledger: AlertLedger = {
      alreadyAlerted: async () => {
        await gate; // both settles are past their counters update before either hears back
        return false;
      },
      markAlerted: (_id, _start, threshold) => {
        marked.push(threshold);
      },
    };
    const { engine, alerts } = setup({ ledger });
    const settles = Promise.all([spend(engine, 'a', 30), spend(engine, 'b', 30)]);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await settles;
    expect(alerts.map((a) => a.threshold)).toEqual([0.5]);
    expect(marked).toEqual([0.5]);
  });

  it('respects a durable ledger: thresholds another replica (or an earlier run) sent are not resent', async () => {
    const sent = new Set<string>(['b|0.5']);
    const ledger: AlertLedger = {
      alreadyAlerted: (id, _start, t) => sent.has(`${id}|${t}`),
      // Another replica wins the race for 0.8.
      markAlerted: (id, _start, t) => (t === 0.8 ? false : (sent.add(`${id}|${t}`), true)),
    };
    const { engine, alerts } = setup({ ledger });
    await spend(engine, 'a', 60);
    await spend(engine, 'b', 25);
    await spend(engine, 'c', 20);
    expect(alerts.map((a) => a.threshold)).toEqual([1]);
    expect(sent.has('b|1')).toBe(true);
  });

  it('does not alert on a repeated settle, and soft budgets alert too', async () => {
    const soft = { ...alerting, id: 'soft', hard: false };
    const { engine, alerts } = setup();
    const r = admitted(await engine.reserve('a', [soft], 0, NOW, BERLIN));
    await engine.settle(r, 55, NOW);
    await engine.settle(r, 55, NOW);
    expect(alerts.map((a) => [a.budget.id, a.threshold])).toEqual([['soft', 0.5]]);
  });

  it('reports ledger failures without failing the settle, and tries again next time', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const ledger: AlertLedger = {
      alreadyAlerted: () => false,
      markAlerted: () => {
        if (fail) throw new Error('db down');
      },
    };
    const counters = new InMemoryCounters();
    const alerts: BudgetAlert[] = [];
    const engine = new BudgetEngine({ counters, ledger, onAlert: (a) => alerts.push(a), onError: (e) => errors.push(e) });
    await spend(engine, 'a', 60);
    expect(errors).toHaveLength(1);
    fail = false;
    await spend(engine, 'b', 1);
    expect(alerts.map((a) => a.threshold)).toEqual([0.5]);
  });
});
