import { describe, expect, it } from 'vitest';
import { countersContract } from './counters.contract.ts';
import { InMemoryCounters } from './counters.ts';

countersContract('InMemoryCounters', (options) => new InMemoryCounters(options));

describe('InMemoryCounters specifics', () => {
  it('keeps a failing sink from undoing or failing the settle', async () => {
    const errors: unknown[] = [];
    const counters = new InMemoryCounters({
      onSettle: () => {
        throw new Error('sink down');
      },
      onSinkError: (err) => errors.push(err),
    });
    const r = await counters.reserve('a', [{ budgetId: 'b', periodStart: 0, limitUsd: 1, hard: true }], 0.5);
    if (!r.ok) throw new Error('expected admission');
    expect((await counters.settle(r.reservation, 0.5)).applied).toBe(true);
    expect(errors).toHaveLength(1);
    expect(await counters.spent('b', 0)).toEqual({ spentUsd: 0.5, reservedUsd: 0 });
  });

  it('drops the counters of past periods that hold nothing', async () => {
    let now = 0;
    const counters = new InMemoryCounters({ now: () => now });
    const day1 = { budgetId: 'b', periodStart: 0, limitUsd: 1, hard: true };
    const r = await counters.reserve('a', [day1], 0.5);
    if (!r.ok) throw new Error('expected admission');
    await counters.settle(r.reservation, 0.5);
    now = 86_400_000;
    await counters.reserve('b', [{ ...day1, periodStart: 86_400_000 }], 0.1);
    now += 60_000;
    await counters.spent('b', 86_400_000);
    // The store, not the counters, answers for finished periods.
    expect(await counters.spent('b', 0)).toEqual({ spentUsd: 0, reservedUsd: 0 });
  });
});
