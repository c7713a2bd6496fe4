// Encrypted values in configuration: any string `enc:v1:…` is opened at load time (after `${VAR}`
// interpolation, so an environment variable may hold an envelope too), and a config file's envelopes
// can be re-sealed with the current key (`switchyard secrets rotate`).
import { isScalar, parseDocument, visit } from 'yaml';
import { decryptSecret, encryptSecret, envelopeKeyId, isEnvelope, SecretError } from './cipher.ts';
import { keyringFromEnv, SECRET_KEY_VAR, type Keyring } from './keyring.ts';

type Env = Readonly<Record<string, string | undefined>>;
type Path = Array<string | number>;

export interface DecryptionIssue {
  path: Path;
  message: string;
}

/** True when any string in the tree is an envelope (the keyring is only needed then). */
export function containsEnvelopes(value: unknown): boolean {
  if (typeof value === 'string') return isEnvelope(value);
  if (Array.isArray(value)) return value.some(containsEnvelopes);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(containsEnvelopes);
  return false;
}

/** Opens every envelope in a plain data tree, in place; problems are reported by path, without values. */
export function decryptTree(root: unknown, env: Env): DecryptionIssue[] {
  if (!containsEnvelopes(root)) return [];
  let keyring: Keyring;
  try {
    keyring = keyringFromEnv(env);
  } catch (err) {
    return [{ path: [], message: (err as Error).message }];
  }
  if (keyring.all.length === 0) return [{ path: [], message: `the configuration holds encrypted values (enc:v1:…) but ${SECRET_KEY_VAR} is not set` }];
  const issues: DecryptionIssue[] = [];
  const walk = (node: unknown, path: Path): unknown => {
    if (typeof node === 'string') {
      if (!isEnvelope(node)) return node;
      try {
        return decryptSecret(node, keyring.all);
      } catch (err) {
        issues.push({ path, message: err instanceof SecretError ? `cannot decrypt: ${err.message}` : 'cannot decrypt' });
        return node;
      }
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = walk(node[i], [...path, i]);
    } else if (typeof node === 'object' && node !== null) {
      const record = node as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = walk(record[key], [...path, key]);
    }
    return node;
  };
  walk(root, []);
  return issues;
}

export interface RotationResult {
  text: string;
  /** Envelopes re-sealed with the current key. */
  rotated: number;
  /** Envelopes already sealed with the current key. */
  current: number;
}

/**
 * Re-seals every envelope of a YAML config with the current key (opening them with the current or a
 * previous key), keeping the rest of the document — comments included — as it was.
 */
export function rotateConfigText(text: string, env: Env): RotationResult {
  const keyring = keyringFromEnv(env);
  const current = keyring.current;
  if (!current) throw new SecretError(`${SECRET_KEY_VAR} (the new key) must be set to rotate`);
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) throw new SecretError(`the configuration is not valid YAML: ${doc.errors[0].message}`);
  let rotated = 0;
  let alreadyCurrent = 0;
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string' || !isEnvelope(node.value)) return;
      if (envelopeKeyId(node.value) === current.id) {
        alreadyCurrent++;
        return;
      }
      node.value = encryptSecret(decryptSecret(node.value, keyring.all), current);
      rotated++;
    },
  });
  return { text: rotated > 0 ? doc.toString({ lineWidth: 0 }) : text, rotated, current: alreadyCurrent };
}
