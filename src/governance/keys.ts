// Virtual key material and lifecycle: secrets are generated here, shown once, and stored only as their
// SHA-256 hash with a short display prefix; a key's status at an instant follows from its timestamps.
import { randomBytes } from 'node:crypto';
import { hashSecret } from './principal.ts';
import type { ApiKey } from './types.ts';

/** Every generated secret starts with this, so scanners and people recognise a Switchyard key. */
export const KEY_PREFIX = 'sk-sy-';
/** Random bytes per secret: 256 bits, base64url-encoded to 43 characters. */
export const SECRET_BYTES = 32;
/** Characters of the secret kept for display (`sk-sy-AbCd`): enough to tell keys apart, useless to guess. */
export const DISPLAY_PREFIX_LENGTH = KEY_PREFIX.length + 4;

/** What is stored for a secret, plus the secret itself for the one response that shows it. */
export interface KeyMaterial {
  secret: string;
  hash: string;
  prefix: string;
}

export function generateSecret(): string {
  return `${KEY_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/** The display prefix of a secret; a short declared secret shows at most half of itself. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, Math.min(DISPLAY_PREFIX_LENGTH, Math.floor(secret.length / 2)));
}

/** Hash and prefix of `secret`, or of a freshly generated one. */
export function keyMaterial(secret: string = generateSecret()): KeyMaterial {
  return { secret, hash: hashSecret(secret), prefix: displayPrefix(secret) };
}

/**
 * - `active`: accepted;
 * - `rotating`: the old key of a rotation, accepted until `overlap_until`;
 * - `rotated`: the old key of a rotation whose overlap has ended;
 * - `expired`, `revoked`: refused.
 * Mirrors the checks of `PrincipalResolver.resolve`, in the same order.
 */
export type KeyStatus = 'active' | 'rotating' | 'rotated' | 'expired' | 'revoked';

export function keyStatus(key: ApiKey, now: number): KeyStatus {
  if (key.revokedAt !== undefined && key.revokedAt <= now) return 'revoked';
  if (key.expiresAt !== undefined && key.expiresAt <= now) return 'expired';
  if (key.overlapUntil !== undefined) return key.overlapUntil <= now ? 'rotated' : 'rotating';
  return 'active';
}

/** True when the request path would accept the key at `now`. */
export function isUsable(key: ApiKey, now: number): boolean {
  const status = keyStatus(key, now);
  return status === 'active' || status === 'rotating';
}

/** Default overlap of a rotation: long enough to roll a deployment, short enough to bound a leak. */
export const DEFAULT_ROTATION_OVERLAP_MS = 3_600_000;
/** Longest overlap accepted: 30 days. */
export const MAX_ROTATION_OVERLAP_MS = 30 * 86_400_000;

export interface Rotation {
  /** The successor: same owner, team, scope, policy, limits and expiry; a new id and secret. */
  next: ApiKey;
  /** The old key with `overlapUntil` set; it keeps working until then. */
  previous: ApiKey;
  secret: string;
}

/**
 * Plans a rotation of `key` at `now`: a new key that inherits everything but its identity and secret,
 * and the old key ending at `now + overlapMs` (0 = immediately). An old key already in an overlap
 * keeps the earlier end: rotating twice never extends a leaked secret's life.
 */
export function planRotation(key: ApiKey, nextId: string, now: number, overlapMs: number): Rotation {
  if (!Number.isFinite(overlapMs) || overlapMs < 0) throw new RangeError(`overlap must be a non-negative number of ms (got ${overlapMs})`);
  const material = keyMaterial();
  const end = now + overlapMs;
  const next: ApiKey = {
    ...key,
    id: nextId,
    hash: material.hash,
    prefix: material.prefix,
    rotatedFromId: key.id,
    createdAt: now,
  };
  delete next.overlapUntil;
  delete next.lastUsedAt;
  delete next.revokedAt;
  const previous: ApiKey = { ...key, overlapUntil: key.overlapUntil === undefined ? end : Math.min(key.overlapUntil, end) };
  return { next, previous, secret: material.secret };
}
