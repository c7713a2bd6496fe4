import { describe, expect, it } from 'vitest';
import { displayPrefix, generateSecret, isUsable, KEY_PREFIX, keyMaterial, keyStatus, planRotation } from './keys.ts';
import { hashSecret } from './principal.ts';
import type { ApiKey } from './types.ts';

const T0 = 1_700_000_000_000;

function key(extra: Partial<ApiKey> = {}): ApiKey {
  return {
    id: 'key_1',
    orgId: 'org_default',
    teamId: 'team_1',
    kind: 'team',
    scope: 'inference',
    name: 'ci',
    prefix: 'sk-sy-AbCd',
    hash: 'h',
    policy: { allowModels: ['*-mini'] },
    limits: { rpm: 10 },
    expiresAt: T0 + 86_400_000,
    lastUsedAt: T0 - 5,
    declared: false,
    createdAt: T0 - 1000,
    ...extra,
  };
}

describe('generateSecret', () => {
  it('is sk-sy- and 32 random bytes in base64url', () => {
    const secret = generateSecret();
    expect(secret.startsWith(KEY_PREFIX)).toBe(true);
    const body = secret.slice(KEY_PREFIX.length);
    expect(body).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(body, 'base64url')).toHaveLength(32);
  });

  it('never repeats', () => {
    const seen = new Set(Array.from({ length: 1000 }, generateSecret));
    expect(seen.size).toBe(1000);
  });
});

describe('keyMaterial', () => {
  it('stores the SHA-256 of the secret and a short display prefix', () => {
    const m = keyMaterial();
    expect(m.hash).toBe(hashSecret(m.secret));
    expect(m.prefix).toBe(m.secret.slice(0, 10));
    expect(m.hash).not.toContain(m.secret);
  });

  it('hashes a given secret (declared keys)', () => {
    const m = keyMaterial('my-declared-secret-123');
    expect(m).toEqual({ secret: 'my-declared-secret-123', hash: hashSecret('my-declared-secret-123'), prefix: 'my-declare' });
  });

  it('never shows more than half of a short secret', () => {
    expect(displayPrefix('abcdefgh')).toBe('abcd');
  });
});

describe('keyStatus', () => {
  it('follows the order of the request path checks', () => {
    expect(keyStatus(key(), T0)).toBe('active');
    expect(keyStatus(key({ revokedAt: T0 }), T0)).toBe('revoked');
    expect(keyStatus(key({ revokedAt: T0 + 1 }), T0)).toBe('active');
    expect(keyStatus(key({ expiresAt: T0 }), T0)).toBe('expired');
    expect(keyStatus(key({ revokedAt: T0 - 1, expiresAt: T0 - 1 }), T0)).toBe('revoked');
    expect(keyStatus(key({ overlapUntil: T0 + 1 }), T0)).toBe('rotating');
    expect(keyStatus(key({ overlapUntil: T0 }), T0)).toBe('rotated');
    expect(isUsable(key({ overlapUntil: T0 + 1 }), T0)).toBe(true);
    expect(isUsable(key({ overlapUntil: T0 }), T0)).toBe(false);
  });
});

describe('planRotation', () => {
  it('gives the successor a new id and secret and everything else of the old key', () => {
    const old = key();
    const r = planRotation(old, 'key_2', T0, 3_600_000);
    const { lastUsedAt: _used, prefix: _prefix, ...inherited } = old;
    expect(r.next).toMatchObject({ ...inherited, id: 'key_2', rotatedFromId: 'key_1', createdAt: T0, hash: hashSecret(r.secret) });
    expect(r.next.lastUsedAt).toBeUndefined();
    expect(r.next.overlapUntil).toBeUndefined();
    expect(r.next.prefix).toBe(r.secret.slice(0, 10));
    expect(r.previous).toEqual({ ...old, overlapUntil: T0 + 3_600_000 });
  });

  it('ends the old key at once with no overlap, and never extends an earlier end', () => {
    expect(planRotation(key(), 'key_2', T0, 0).previous.overlapUntil).toBe(T0);
    expect(planRotation(key({ overlapUntil: T0 + 10 }), 'key_2', T0, 60_000).previous.overlapUntil).toBe(T0 + 10);
  });

  it('refuses a negative overlap', () => {
    expect(() => planRotation(key(), 'key_2', T0, -1)).toThrow(RangeError);
  });
});
