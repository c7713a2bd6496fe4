import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, envelopeKeyId, secretKey, SecretError } from './cipher.ts';
import { keyringFromEnv, parseSecretKey } from './keyring.ts';

const key = secretKey(randomBytes(32));
const other = secretKey(randomBytes(32));

describe('AES-256-GCM envelopes', () => {
  it('round-trips, with a fresh IV each time and the key id in the clear', () => {
    const a = encryptSecret('sk-live-123', key);
    const b = encryptSecret('sk-live-123', key);
    expect(a).toMatch(/^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-live');
    expect(envelopeKeyId(a)).toBe(key.id);
    expect(decryptSecret(a, [other, key])).toBe('sk-live-123');
  });

  it('refuses a wrong key, a tampered envelope and a relabelled one, without echoing the value', () => {
    const sealed = encryptSecret('sk-live-123', key);
    expect(() => decryptSecret(sealed, [other])).toThrow(SecretError);
    const data = sealed.slice(16);
    const flipped = sealed.slice(0, 16) + (data[0] === 'A' ? 'B' : 'A') + data.slice(1);
    expect(() => decryptSecret(flipped, [key])).toThrow(/failed authentication/);
    const relabelled = `enc:v1:${other.id}:${data}`;
    expect(() => decryptSecret(relabelled, [key, other])).toThrow(/failed authentication/);
    expect(() => decryptSecret('enc:v1:short', [key])).toThrow(SecretError);
    try {
      decryptSecret(flipped, [key]);
    } catch (err) {
      expect((err as Error).message).not.toContain('sk-live');
    }
  });
});

describe('keyring from the environment', () => {
  it('reads base64 and hex keys, current first, several previous ones', () => {
    const b64 = randomBytes(32).toString('base64');
    const hex = randomBytes(32).toString('hex');
    const hex2 = randomBytes(32).toString('hex');
    const ring = keyringFromEnv({ SWITCHYARD_SECRET_KEY: b64, SWITCHYARD_SECRET_KEY_PREVIOUS: `${hex}, ${hex2}` });
    expect(ring.current?.bytes).toEqual(Buffer.from(b64, 'base64'));
    expect(ring.all.map((k) => k.id)).toEqual([ring.current?.id, parseSecretKey(hex, 'x').id, parseSecretKey(hex2, 'x').id]);
  });

  it('names the variable, never the value, when a key is malformed', () => {
    expect(() => parseSecretKey('too-short-secret', 'SWITCHYARD_SECRET_KEY')).toThrow(/SWITCHYARD_SECRET_KEY must be 32 random bytes/);
    try {
      parseSecretKey('too-short-secret', 'SWITCHYARD_SECRET_KEY');
    } catch (err) {
      expect((err as Error).message).not.toContain('too-short-secret');
    }
  });
});
