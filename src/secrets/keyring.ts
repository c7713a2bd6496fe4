// The keys that seal configuration secrets: SWITCHYARD_SECRET_KEY (current: seals and opens) and
// SWITCHYARD_SECRET_KEY_PREVIOUS (opens only; comma-separated for more than one), each 32 random
// bytes written as base64 or hex. `switchyard secrets keygen` makes one.
import { randomBytes } from 'node:crypto';
import { KEY_BYTES, SecretError, secretKey, type SecretKey } from './cipher.ts';

export const SECRET_KEY_VAR = 'SWITCHYARD_SECRET_KEY';
export const PREVIOUS_KEY_VAR = 'SWITCHYARD_SECRET_KEY_PREVIOUS';

export interface Keyring {
  current: SecretKey | undefined;
  previous: SecretKey[];
  /** Current first: the keys that may open an envelope. */
  all: SecretKey[];
}

type Env = Readonly<Record<string, string | undefined>>;

const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]{43}=?$/;

/** Parses one key; the message names the variable, never its value. */
export function parseSecretKey(text: string, variable: string): SecretKey {
  const value = text.trim();
  let bytes: Buffer | undefined;
  if (HEX.test(value)) bytes = Buffer.from(value, 'hex');
  else if (BASE64.test(value)) bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!bytes || bytes.length !== KEY_BYTES) {
    throw new SecretError(`${variable} must be ${KEY_BYTES} random bytes as base64 (44 characters) or hex (64); generate one with: switchyard secrets keygen`);
  }
  return secretKey(bytes);
}

export function keyringFromEnv(env: Env): Keyring {
  const currentText = env[SECRET_KEY_VAR];
  const current = currentText ? parseSecretKey(currentText, SECRET_KEY_VAR) : undefined;
  const previous = (env[PREVIOUS_KEY_VAR] ?? '')
    .split(',')
    .filter((s) => s.trim().length > 0)
    .map((s) => parseSecretKey(s, PREVIOUS_KEY_VAR));
  return { current, previous, all: current ? [current, ...previous] : previous };
}

export function generateSecretKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}
