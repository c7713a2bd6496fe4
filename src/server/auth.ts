// Authentication of gateway callers. Until virtual keys exist the master key is the only key.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../core/errors.ts';

export interface Principal {
  kind: 'master';
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** The key a client presented: `Authorization: Bearer …`, or `x-api-key` (Anthropic clients). */
export function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim();
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

export class KeyAuthenticator {
  private readonly masterDigest: Buffer | undefined;

  constructor(masterKey: string | undefined) {
    this.masterDigest = masterKey ? digest(masterKey) : undefined;
  }

  /** Constant-time comparison of digests, so timing reveals nothing about the key. */
  authenticate(req: IncomingMessage): Principal {
    const key = presentedKey(req);
    if (!key) throw new GatewayError('auth', 'missing API key: send "Authorization: Bearer <key>"', { code: 'missing_api_key' });
    if (this.masterDigest && timingSafeEqual(digest(key), this.masterDigest)) return { kind: 'master' };
    throw new GatewayError('auth', 'invalid API key', { code: 'invalid_api_key' });
  }
}
