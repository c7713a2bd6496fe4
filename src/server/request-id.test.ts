import { describe, expect, it } from 'vitest';
import { newRequestId, requestIdTime } from './request-id.ts';

describe('newRequestId', () => {
  it('is req_ and 32 hex digits, unique, and ordered by time', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(newRequestId(1_700_000_000_000));
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    const earlier = newRequestId(1_700_000_000_000);
    const later = newRequestId(1_700_000_000_001);
    expect(earlier < later).toBe(true);
    expect(parseInt(newRequestId(1_700_000_000_123).slice(4, 16), 16)).toBe(1_700_000_000_123);
  });
});

describe('requestIdTime', () => {
  it('reads the time back from an id the gateway made, and nothing from any other id', () => {
    for (const t of [0, 1_700_000_000_123, Date.UTC(2100, 0, 1)]) expect(requestIdTime(newRequestId(t))).toBe(t);
    for (const other of ['req_0000000005', 'req_' + 'g'.repeat(32), 'REQ_' + '0'.repeat(32), `${newRequestId(5)}x`, 'chatcmpl-123']) {
      expect(requestIdTime(other)).toBeUndefined();
    }
  });
});
