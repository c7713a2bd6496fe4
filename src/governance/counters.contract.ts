// The behaviour every `Counters` implementation must have: run it against each one (in-memory here,
// Redis later) from that implementation's test file.
import { describe, expect, it } from 'vitest';
import type { BudgetLine, Counters, CountersOptions, Reservation, SpendEntry } from './counters.ts';

export type CountersFactory = (options: CountersOptions) => Counters | Promise<Counters>;

const line = (budgetId: string, limitUsd: number, hard = true, periodStart = 1000): BudgetLine => ({ budgetId, periodStart, limitUsd, hard });

async function reserved(counters: Counters, requestId: string, lines: BudgetLine[], amountUsd: number): Promise<Reservation> {
  const result = await counters.reserve(requestId, lines, amountUsd);
  if (!result.ok) throw new Error(`expected ${requestId} to be admitted`);
  return result.reservation;
}

export function countersContract(name: string, make: CountersFactory): void {
  describe(`${name}: budget reservations`, () => {
    it('admits exactly 20 of 200 concurrent $0.05 reservations against a hard $1.00', async () => {
      const counters = await make({});
      const budget = line('b', 1);
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => counters.reserve(`r${i}`, [budget], 0.05)));
      const admitted = results.filter((r) => r.ok);
      expect(admitted).toHaveLength(20);
      expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 0, reservedUsd: 1 });
      const refused = results.find((r) => !r.ok);
      expect(refused).toEqual({ ok: false, exceeded: budget, spentUsd: 0, reservedUsd: 1 });
      // Settling them all at their reserved cost spends exactly the budget.
      await Promise.all(admitted.map((r) => (r.ok ? counters.settle(r.reservation, 0.05) : undefined)));
      expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 1, reservedUsd: 0 });
      expect((await counters.reserve('late', [budget], 0.000001)).ok).toBe(false);
    });

    it('settling below the reservation frees the difference', async () => {
      const counters = await make({});
      const budget = line('b', 1);
      const first = await reserved(counters, 'a', [budget], 0.5);
      await reserved(counters, 'b', [budget], 0.5);
      expect((await counters.reserve('c', [budget], 0.1)).ok).toBe(false);
      await counters.settle(first, 0.1);
      expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 0.1, reservedUsd: 0.5 });
      expect((await counters.reserve('d', [budget], 0.41)).ok).toBe(false);
      expect((await counters.reserve('e', [budget], 0.4)).ok).toBe(true);
    });

    it('settling above the reservation charges the actual cost', async () => {
      const counters = await make({});
      const budget = line('b', 1);
      const r = await reserved(counters, 'a', [budget], 0.2);
      const outcome = await counters.settle(r, 1.5);
      expect(outcome).toEqual({ applied: true, lines: [{ line: budget, spentUsd: 1.5 }] });
      expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 1.5, reservedUsd: 0 });
      expect((await counters.reserve('b', [budget], 0.01)).ok).toBe(false);
    });

    it('settles once per request id, and reports each settle to the sink once', async () => {
      const sunk: SpendEntry[][] = [];
      const counters = await make({ onSettle: (entries) => sunk.push([...entries]) });
      const lines = [line('key', 10), line('org', 100, false)];
      const r = await reserved(counters, 'a', lines, 1);
      expect((await counters.settle(r, 0.25)).applied).toBe(true);
      const again = await counters.settle(r, 0.25);
      expect(again.applied).toBe(false);
      expect(again.lines.map((l) => l.spentUsd)).toEqual([0.25, 0.25]);
      await counters.release(r);
      expect(await counters.spent('key', 1000)).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
      expect(sunk).toEqual([
        [
          { budgetId: 'key', periodStart: 1000, deltaUsd: 0.25 },
          { budgetId: 'org', periodStart: 1000, deltaUsd: 0.25 },
        ],
      ]);
      await expect(counters.resize(r, 2)).rejects.toThrow(/already settled/);
    });

    it('reserves on all lines or none: one hard line refusing leaves the others untouched', async () => {
      const counters = await make({});
      const key = line('key', 1);
      const team = line('team', 10, false);
      const org = line('org', 0.5);
      const result = await counters.reserve('a', [key, team, org], 0.6);
      expect(result).toEqual({ ok: false, exceeded: org, spentUsd: 0, reservedUsd: 0 });
      for (const id of ['key', 'team', 'org']) expect(await counters.spent(id, 1000)).toEqual({ spentUsd: 0, reservedUsd: 0 });
    });

    it('soft lines always take the reservation, even beyond their limit', async () => {
      const counters = await make({});
      const soft = line('soft', 0.1, false);
      expect((await counters.reserve('a', [soft], 0.5)).ok).toBe(true);
      expect((await counters.reserve('b', [soft], 0.5)).ok).toBe(true);
      expect(await counters.spent('soft', 1000)).toEqual({ spentUsd: 0, reservedUsd: 1 });
    });

    it('never refuses a zero amount, even on an exhausted budget', async () => {
      const counters = await make({});
      const budget = line('b', 1);
      await counters.settle(await reserved(counters, 'a', [budget], 1), 1.2);
      const free = await counters.reserve('local', [budget], 0);
      expect(free.ok).toBe(true);
      if (free.ok) {
        // ...but growing it to a paid deployment is checked.
        expect((await counters.resize(free.reservation, 0.01)).ok).toBe(false);
        await counters.settle(free.reservation, 0);
      }
      expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 1.2, reservedUsd: 0 });
    });

    it('resizes atomically: growth is checked, a refused growth keeps the old amount, shrinking always works', async () => {
      const counters = await make({});
      const budget = line('b', 1);
      const r = await reserved(counters, 'a', [budget], 0.3);
      await reserved(counters, 'b', [budget], 0.5);
      expect(await counters.resize(r, 0.6)).toMatchObject({ ok: false, exceeded: budget, reservedUsd: 0.8 });
      expect((await counters.spent('b', 1000)).reservedUsd).toBe(0.8);
      const grown = await counters.resize(r, 0.5);
      expect(grown.ok && grown.reservation.amountUsd).toBe(0.5);
      expect((await counters.spent('b', 1000)).reservedUsd).toBe(1);
      expect((await counters.resize(r, 0.1)).ok).toBe(true);
      expect((await counters.spent('b', 1000)).reservedUsd).toBe(0.6);
    });

    it('release returns the money and is idempotent', async () => {
      const counters = await make({});
      const budget = line('b', 1);
      const r = await reserved(counters, 'a', [budget], 1);
      await counters.release(r);
      await counters.release(r);
      expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 0, reservedUsd: 0 });
      expect((await counters.settle(r, 1)).applied).toBe(false);
      expect((await counters.reserve('b', [budget], 1)).ok).toBe(true);
    });

    it('stops holding a reservation nobody settled once it expires, but still charges a late settle', async () => {
      let now = 0;
      const counters = await make({ now: () => now, reservationTtlMs: 60_000 });
      const budget = line('b', 1);
      const abandoned = await reserved(counters, 'a', [budget], 1);
      expect((await counters.reserve('b', [budget], 0.5)).ok).toBe(false);
      now = 60_000;
      expect((await counters.reserve('c', [budget], 0.5)).ok).toBe(true);
      await counters.settle(abandoned, 0.2);
      expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 0.2, reservedUsd: 0.5 });
    });

    it('charges a budget listed twice once', async () => {
      const counters = await make({});
      const budget = line('b', 1);
      const r = await reserved(counters, 'a', [budget, { ...budget }], 0.6);
      expect((await counters.spent('b', 1000)).reservedUsd).toBe(0.6);
      await counters.settle(r, 0.6);
      expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 0.6, reservedUsd: 0 });
    });

    it('keeps periods apart', async () => {
      const counters = await make({});
      await counters.settle(await reserved(counters, 'a', [line('b', 1, true, 1000)], 1), 1);
      expect((await counters.reserve('b', [line('b', 1, true, 2000)], 1)).ok).toBe(true);
    });

    it('seeds a period only when it has no counter yet', async () => {
      const counters = await make({});
      await counters.seed('b', 1000, 0.75);
      expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 0.75, reservedUsd: 0 });
      expect((await counters.reserve('a', [line('b', 1)], 0.3)).ok).toBe(false);
      await counters.seed('b', 1000, 0);
      expect((await counters.spent('b', 1000)).spentUsd).toBe(0.75);
    });

    it('rejects a second reservation under one request id, and bad amounts', async () => {
      const counters = await make({});
      await reserved(counters, 'a', [line('b', 1)], 0.1);
      await expect(counters.reserve('a', [line('b', 1)], 0.1)).rejects.toThrow(/already has a reservation/);
      await expect(counters.reserve('x', [line('b', 1)], -1)).rejects.toThrow(RangeError);
      await expect(counters.reserve('y', [line('b', 1)], Number.NaN)).rejects.toThrow(RangeError);
    });
  });

  describe(`${name}: sliding windows`, () => {
    const rpm = (key = 'rpm:key:k'): { key: string; limit: number; windowMs: number; cost: number } => ({ key, limit: 60, windowMs: 60_000, cost: 1 });

    it('RPM 60 admits exactly 60 of 200 concurrent hits in the window', async () => {
      const counters = await make({});
      // 960,000 is a whole number of ticks (60 ms for a minute), so hits then are kept at that instant.
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => counters.hit([rpm()], 960_000 + (i % 7))));
      expect(results.filter((r) => r.ok)).toHaveLength(60);
      expect(await counters.usage('rpm:key:k', 60_000, 960_010)).toBe(60);
      // Still full just before the first hits leave the window, open again right after.
      expect((await counters.hit([rpm()], 1_019_999)).ok).toBe(false);
      expect((await counters.hit([rpm()], 1_020_000)).ok).toBe(true);
    });

    it('keeps each hit until the end of its tick (a thousandth of the window) plus the window, never less', async () => {
      const counters = await make({});
      const limit = { key: 'rpm:key:k', limit: 1, windowMs: 60_000, cost: 1 };
      expect((await counters.hit([limit], 1_000_001)).ok).toBe(true); // its tick ends at 1,000,020
      for (const now of [1_000_001, 1_060_000, 1_060_001, 1_060_019]) {
        expect(await counters.hit([limit], now)).toMatchObject({ ok: false, retryAfterMs: 1_060_020 - now });
      }
      expect((await counters.hit([limit], 1_060_020)).ok).toBe(true);
    });

    it('slides: no double burst at a boundary, and names the wait', async () => {
      const counters = await make({});
      for (let i = 0; i < 30; i++) expect((await counters.hit([rpm()], 0)).ok).toBe(true);
      for (let i = 0; i < 30; i++) expect((await counters.hit([rpm()], 30_000)).ok).toBe(true);
      const refused = await counters.hit([rpm()], 45_000);
      expect(refused).toMatchObject({ ok: false, key: 'rpm:key:k', limit: 60, remaining: 0, retryAfterMs: 15_000 });
      // At 60 s the first 30 have left; the second 30 still count.
      for (let i = 0; i < 30; i++) expect((await counters.hit([rpm()], 60_000)).ok).toBe(true);
      expect((await counters.hit([rpm()], 60_000)).ok).toBe(false);
      expect(await counters.usage('rpm:key:k', 60_000, 89_999)).toBe(60);
      expect(await counters.usage('rpm:key:k', 60_000, 90_000)).toBe(30);
    });

    it('adds nothing when any check refuses', async () => {
      const counters = await make({});
      const tpm = { key: 'tpm:key:k', limit: 1000, windowMs: 60_000, cost: 600 };
      expect((await counters.hit([rpm(), tpm], 0)).ok).toBe(true);
      const refused = await counters.hit([rpm(), tpm], 1);
      expect(refused).toMatchObject({ ok: false, key: 'tpm:key:k', limit: 1000, remaining: 400, retryAfterMs: 59_999 });
      expect(await counters.usage('rpm:key:k', 60_000, 2)).toBe(1);
      expect(await counters.usage('tpm:key:k', 60_000, 2)).toBe(600);
    });

    it('reports remaining and reset for every check', async () => {
      const counters = await make({});
      await counters.hit([rpm()], 0);
      const result = await counters.hit([rpm(), { key: 'tpm:key:k', limit: 1000, windowMs: 60_000, cost: 100 }], 9_990);
      // Kept at the end of their tick, 10,020: the windows are empty again 60.03 s from now.
      expect(result).toEqual({
        ok: true,
        states: [
          { key: 'rpm:key:k', limit: 60, remaining: 58, resetMs: 60_030 },
          { key: 'tpm:key:k', limit: 1000, remaining: 900, resetMs: 60_030 },
        ],
      });
    });

    it('adjusts a token estimate to the actual count, expiring with the original hit', async () => {
      const counters = await make({});
      const tpm = { key: 'tpm:key:k', limit: 1000, windowMs: 60_000, cost: 900 };
      expect((await counters.hit([tpm], 0)).ok).toBe(true);
      expect((await counters.hit([{ ...tpm, cost: 200 }], 1000)).ok).toBe(false);
      await counters.adjust('tpm:key:k', 60_000, -700, 0); // it used 200
      expect(await counters.usage('tpm:key:k', 60_000, 1000)).toBe(200);
      expect((await counters.hit([{ ...tpm, cost: 800 }], 1000)).ok).toBe(true);
      expect(await counters.usage('tpm:key:k', 60_000, 59_999)).toBe(1000);
      expect(await counters.usage('tpm:key:k', 60_000, 60_000)).toBe(800);
      // Upward adjustments count too.
      await counters.adjust('tpm:key:k', 60_000, 150, 1000);
      expect(await counters.usage('tpm:key:k', 60_000, 60_000)).toBe(950);
    });

    it('explains a cost that can never fit', async () => {
      const counters = await make({});
      const result = await counters.hit([{ key: 'tpm:key:k', limit: 1000, windowMs: 60_000, cost: 1001 }], 0);
      expect(result).toMatchObject({ ok: false, remaining: 1000, retryAfterMs: 60_000 });
    });
  });

  describe(`${name}: concurrency slots`, () => {
    it('hands out at most max slots and takes them back', async () => {
      const counters = await make({});
      const results = await Promise.all(Array.from({ length: 10 }, () => counters.acquire([{ key: 'conc:key:k', max: 3 }])));
      expect(results.filter((r) => r.ok)).toHaveLength(3);
      expect(results.find((r) => !r.ok)).toEqual({ ok: false, key: 'conc:key:k', max: 3 });
      await counters.releaseSlots(['conc:key:k']);
      expect((await counters.acquire([{ key: 'conc:key:k', max: 3 }])).ok).toBe(true);
      expect((await counters.acquire([{ key: 'conc:key:k', max: 3 }])).ok).toBe(false);
    });

    it('takes a slot under every key or under none', async () => {
      const counters = await make({});
      expect((await counters.acquire([{ key: 'conc:team:t', max: 1 }])).ok).toBe(true);
      expect(await counters.acquire([{ key: 'conc:key:k', max: 5 }, { key: 'conc:team:t', max: 1 }])).toEqual({ ok: false, key: 'conc:team:t', max: 1 });
      // The key's slot was not taken by the refused attempt.
      for (let i = 0; i < 5; i++) expect((await counters.acquire([{ key: 'conc:key:k', max: 5 }])).ok).toBe(true);
      expect((await counters.acquire([{ key: 'conc:key:k', max: 5 }])).ok).toBe(false);
    });
  });
}
