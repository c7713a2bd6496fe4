import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoInZone, isValidTimeZone, periodEnd, periodStart, periodWindow } from './periods.ts';
import type { BudgetPeriod } from './types.ts';

const utc = (iso: string): number => Date.parse(iso);
const window = (period: BudgetPeriod, tz: string, nowIso: string): [string, string] => {
  const w = periodWindow(period, tz, utc(nowIso));
  return [new Date(w.start).toISOString(), new Date(w.end).toISOString()];
};

describe('daily periods', () => {
  it('start at local midnight', () => {
    expect(window('daily', 'UTC', '2024-05-10T12:00:00Z')).toEqual(['2024-05-10T00:00:00.000Z', '2024-05-11T00:00:00.000Z']);
    expect(window('daily', 'Europe/Berlin', '2024-05-10T12:00:00Z')).toEqual(['2024-05-09T22:00:00.000Z', '2024-05-10T22:00:00.000Z']);
    expect(window('daily', 'Asia/Kolkata', '2024-01-01T12:00:00Z')).toEqual(['2023-12-31T18:30:00.000Z', '2024-01-01T18:30:00.000Z']);
    // 23:30 UTC is already tomorrow in Berlin.
    expect(window('daily', 'Europe/Berlin', '2024-05-10T22:30:00Z')).toEqual(['2024-05-10T22:00:00.000Z', '2024-05-11T22:00:00.000Z']);
  });

  it('are 23 hours long on the spring-forward day and 25 on the fall-back day (Berlin)', () => {
    expect(window('daily', 'Europe/Berlin', '2024-03-31T10:00:00Z')).toEqual(['2024-03-30T23:00:00.000Z', '2024-03-31T22:00:00.000Z']);
    expect(window('daily', 'Europe/Berlin', '2024-10-27T10:00:00Z')).toEqual(['2024-10-26T22:00:00.000Z', '2024-10-27T23:00:00.000Z']);
    // Inside the repeated hour (02:30 CEST, then 02:30 CET): both are the 27th.
    expect(window('daily', 'Europe/Berlin', '2024-10-27T00:30:00Z')[0]).toBe('2024-10-26T22:00:00.000Z');
    expect(window('daily', 'Europe/Berlin', '2024-10-27T01:30:00Z')[0]).toBe('2024-10-26T22:00:00.000Z');
  });

  it('follow New York across its DST changes', () => {
    expect(window('daily', 'America/New_York', '2024-03-10T12:00:00Z')).toEqual(['2024-03-10T05:00:00.000Z', '2024-03-11T04:00:00.000Z']);
    expect(window('daily', 'America/New_York', '2024-11-03T12:00:00Z')).toEqual(['2024-11-03T04:00:00.000Z', '2024-11-04T05:00:00.000Z']);
    // 06:30 UTC on Nov 3 is 01:30 EST, the second 01:30 of the day.
    expect(window('daily', 'America/New_York', '2024-11-03T06:30:00Z')[0]).toBe('2024-11-03T04:00:00.000Z');
  });

  it('start after the gap when a DST change swallows midnight, and at the first midnight when one repeats it', () => {
    // Santiago springs forward at 00:00 → 01:00: the 8th begins at 01:00 -03.
    expect(window('daily', 'America/Santiago', '2024-09-08T12:00:00Z')).toEqual(['2024-09-08T04:00:00.000Z', '2024-09-09T03:00:00.000Z']);
    expect(isoInZone(periodStart('daily', 'America/Santiago', utc('2024-09-08T12:00:00Z')), 'America/Santiago')).toBe('2024-09-08T01:00:00-03:00');
    // Santiago falls back at 00:00 → 23:00: the 6th lasts 25 hours.
    expect(window('daily', 'America/Santiago', '2024-04-06T12:00:00Z')).toEqual(['2024-04-06T03:00:00.000Z', '2024-04-07T04:00:00.000Z']);
  });

  it('skip a day the zone skipped (Samoa, 30 Dec 2011)', () => {
    expect(window('daily', 'Pacific/Apia', '2011-12-29T12:00:00Z')).toEqual(['2011-12-29T10:00:00.000Z', '2011-12-30T10:00:00.000Z']);
    expect(isoInZone(utc('2011-12-30T10:00:00Z'), 'Pacific/Apia')).toBe('2011-12-31T00:00:00+14:00');
  });

  it('put the boundary instant in the new period', () => {
    const start = utc('2024-03-30T23:00:00Z');
    expect(periodStart('daily', 'Europe/Berlin', start)).toBe(start);
    expect(periodEnd('daily', 'Europe/Berlin', start - 1)).toBe(start);
    expect(periodStart('daily', 'Europe/Berlin', start - 1)).toBe(utc('2024-03-29T23:00:00Z'));
  });
});

describe('weekly periods (ISO weeks, Monday)', () => {
  it('start on Monday at local midnight, across DST', () => {
    // Sunday 31 March 2024, the spring-forward day, ends a 167-hour week.
    expect(window('weekly', 'Europe/Berlin', '2024-03-31T10:00:00Z')).toEqual(['2024-03-24T23:00:00.000Z', '2024-03-31T22:00:00.000Z']);
    expect(window('weekly', 'Europe/Berlin', '2024-04-01T10:00:00Z')).toEqual(['2024-03-31T22:00:00.000Z', '2024-04-07T22:00:00.000Z']);
    expect(window('weekly', 'America/New_York', '2024-11-06T12:00:00Z')).toEqual(['2024-11-04T05:00:00.000Z', '2024-11-11T05:00:00.000Z']);
  });

  it('cross month and year ends', () => {
    expect(window('weekly', 'UTC', '2025-01-01T12:00:00Z')).toEqual(['2024-12-30T00:00:00.000Z', '2025-01-06T00:00:00.000Z']);
    expect(window('weekly', 'UTC', '2024-03-03T23:59:59Z')).toEqual(['2024-02-26T00:00:00.000Z', '2024-03-04T00:00:00.000Z']);
  });
});

describe('monthly periods', () => {
  it('start on the 1st at local midnight', () => {
    expect(window('monthly', 'Europe/Berlin', '2024-03-15T12:00:00Z')).toEqual(['2024-02-29T23:00:00.000Z', '2024-03-31T22:00:00.000Z']);
    expect(window('monthly', 'America/New_York', '2024-11-15T12:00:00Z')).toEqual(['2024-11-01T04:00:00.000Z', '2024-12-01T05:00:00.000Z']);
  });

  it('know leap years', () => {
    expect(window('monthly', 'UTC', '2024-02-29T12:00:00Z')).toEqual(['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
    expect(window('monthly', 'UTC', '2023-02-28T12:00:00Z')).toEqual(['2023-02-01T00:00:00.000Z', '2023-03-01T00:00:00.000Z']);
    expect(window('monthly', 'Europe/Berlin', '2024-02-29T23:30:00Z')[0]).toBe('2024-02-29T23:00:00.000Z'); // already March locally
  });

  it('roll over the year', () => {
    expect(window('monthly', 'Europe/Berlin', '2024-12-31T23:30:00Z')).toEqual(['2024-12-31T23:00:00.000Z', '2025-01-31T23:00:00.000Z']);
    expect(window('monthly', 'America/New_York', '2025-01-01T03:00:00Z')).toEqual(['2024-12-01T05:00:00.000Z', '2025-01-01T05:00:00.000Z']);
  });
});

describe('total and helpers', () => {
  it('a total budget never resets', () => {
    expect(periodWindow('total', 'Europe/Berlin', Date.now())).toEqual({ start: 0, end: Number.POSITIVE_INFINITY });
  });

  it('formats instants in the zone with its offset', () => {
    expect(isoInZone(utc('2024-03-30T23:00:00Z'), 'Europe/Berlin')).toBe('2024-03-31T00:00:00+01:00');
    expect(isoInZone(utc('2024-03-31T22:00:00Z'), 'Europe/Berlin')).toBe('2024-04-01T00:00:00+02:00');
    expect(isoInZone(utc('2024-01-01T00:00:00Z'), 'America/New_York')).toBe('2023-12-31T19:00:00-05:00');
    expect(isoInZone(utc('2024-01-01T00:00:00Z'), 'Asia/Kolkata')).toBe('2024-01-01T05:30:00+05:30');
  });

  it('validates time zones', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(() => periodStart('daily', 'Mars/Olympus', 0)).toThrow(RangeError);
  });

  it('answers from the cache consistently when time moves back and forth', () => {
    const a = periodWindow('daily', 'America/New_York', utc('2024-03-10T12:00:00Z'));
    const b = periodWindow('daily', 'America/New_York', utc('2024-03-09T12:00:00Z'));
    const c = periodWindow('daily', 'America/New_York', utc('2024-03-10T13:00:00Z'));
    expect(b.end).toBe(a.start);
    expect(c).toEqual(a);
  });
});

describe('period invariants (property)', () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham'];
  const wall = (t: number, tz: string): string => isoInZone(t, tz).slice(0, 19);

  it.each(['daily', 'weekly', 'monthly'] as const)('%s windows contain now, tile time and begin a local day', (period) => {
    fc.assert(
      fc.property(fc.integer({ min: utc('2000-01-01T00:00:00Z'), max: utc('2037-12-31T00:00:00Z') }), fc.constantFrom(...zones), (now, tz) => {
        const w = periodWindow(period, tz, now);
        expect(w.start).toBeLessThanOrEqual(now);
        expect(now).toBeLessThan(w.end);
        expect(periodWindow(period, tz, w.end).start).toBe(w.end);
        expect(periodWindow(period, tz, w.start - 1).end).toBe(w.start);
        // The instant before the start is on an earlier local date.
        expect(wall(w.start - 1, tz).slice(0, 10) < wall(w.start, tz).slice(0, 10)).toBe(true);
        if (period === 'monthly') expect(wall(w.start, tz).slice(8, 10)).toBe('01');
        if (period === 'weekly') expect(new Date(`${wall(w.start, tz).slice(0, 10)}T00:00:00Z`).getUTCDay()).toBe(1);
      }),
      { numRuns: 300 },
    );
  });
});

describe('UTC without Intl', () => {
  // 'Etc/GMT' is UTC too but takes the Intl path: the two must agree everywhere.
  it.each(['daily', 'weekly', 'monthly'] as const)('%s windows and ISO strings in UTC equal those Intl computes', (period) => {
    fc.assert(
      fc.property(fc.integer({ min: utc('1970-01-01T00:00:00Z'), max: utc('2100-12-31T00:00:00Z') }), fc.constantFrom('UTC', 'Etc/UTC', 'Zulu'), (now, zone) => {
        expect(periodWindow(period, zone, now)).toEqual(periodWindow(period, 'Etc/GMT', now));
        expect(isoInZone(now, zone)).toBe(isoInZone(now, 'Etc/GMT'));
      }),
      { numRuns: 500 },
    );
  });

  it('knows every UTC name Intl knows, and still refuses unknown zones', () => {
    for (const zone of ['UTC', 'Etc/UTC', 'Etc/Universal', 'Etc/Zulu', 'Universal', 'Zulu']) {
      expect(isValidTimeZone(zone)).toBe(true);
      expect(new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone).toMatch(/^(UTC|Etc\/UTC)$/);
    }
    expect(isValidTimeZone('utc ')).toBe(false);
  });
});
