import { describe, expect, it } from 'vitest';
import { openDatabase } from '../sqlite/database.ts';
import { openResponseStore, responsesTtlMs } from './open.ts';
import { DEFAULT_RESPONSE_TTL_MS } from './store.ts';

describe('openResponseStore', () => {
  it('reads the retention from SWITCHYARD_RESPONSES_TTL_DAYS, defaulting to 30 days', () => {
    expect(responsesTtlMs({})).toBe(DEFAULT_RESPONSE_TTL_MS);
    expect(responsesTtlMs({ SWITCHYARD_RESPONSES_TTL_DAYS: '0.5' })).toBe(43_200_000);
    expect(() => responsesTtlMs({ SWITCHYARD_RESPONSES_TTL_DAYS: 'never' })).toThrow('positive number of days');
  });

  it('uses the embedded database when PostgreSQL is not configured', async () => {
    const db = openDatabase(':memory:');
    const store = await openResponseStore({ sqlite: db, env: { SWITCHYARD_RESPONSES_TTL_DAYS: '1' } });
    expect(store.ttlMs).toBe(86_400_000);
    await store.close();
    db.close();
  });
});
