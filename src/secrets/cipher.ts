// AES-256-GCM envelopes for secrets kept in configuration files: `enc:v1:<key id>:<base64url(iv ‖
// ciphertext ‖ tag)>`. The key id (the first 8 hex digits of SHA-256 of the key) names which key sealed
// a value, so rotation can tell current from previous and a wrong key gives a clear error.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const ENVELOPE_PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export interface SecretKey {
  /** 8 hex digits derived from the key; safe to print. */
  id: string;
  bytes: Buffer;
}

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

export function secretKey(bytes: Buffer): SecretKey {
  if (bytes.length !== KEY_BYTES) throw new SecretError(`a secret key must be ${KEY_BYTES} bytes, got ${bytes.length}`);
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes };
}

export function isEnvelope(value: string): boolean {
  return value.startsWith(ENVELOPE_PREFIX);
}

/** Seals `plaintext` with `key`; every call uses a fresh random IV. */
export function encryptSecret(plaintext: string, key: SecretKey): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  // The key id is authenticated too, so an envelope cannot be relabelled.
  cipher.setAAD(Buffer.from(key.id));
  const sealed = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${ENVELOPE_PREFIX}${key.id}:${sealed.toString('base64url')}`;
}

/** The key id an envelope was sealed with. */
export function envelopeKeyId(envelope: string): string {
  const rest = envelope.slice(ENVELOPE_PREFIX.length);
  const colon = rest.indexOf(':');
  if (!isEnvelope(envelope) || colon !== 8) throw new SecretError('not an enc:v1 envelope (expected enc:v1:<key id>:<data>)');
  return rest.slice(0, colon);
}

/** Opens an envelope with whichever of `keys` sealed it. Errors never include the value. */
export function decryptSecret(envelope: string, keys: readonly SecretKey[]): string {
  const id = envelopeKeyId(envelope);
  const key = keys.find((k) => k.id === id);
  if (!key) {
    const known = keys.map((k) => k.id).join(', ') || 'none';
    throw new SecretError(`sealed with key ${id}, which is neither SWITCHYARD_SECRET_KEY nor SWITCHYARD_SECRET_KEY_PREVIOUS (known: ${known})`);
  }
  const sealed = Buffer.from(envelope.slice(ENVELOPE_PREFIX.length + 9), 'base64url');
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new SecretError('envelope is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key.bytes, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(key.id));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretError(`envelope sealed with key ${id} failed authentication (corrupted or tampered with)`);
  }
}
