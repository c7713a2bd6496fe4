// The key a client presents to the gateway. Resolving it to a caller is the governance layer's job
// (src/governance/principal.ts).
import type { IncomingMessage } from 'node:http';

/** The key a client presented: `Authorization: Bearer …`, or `x-api-key` (Anthropic clients). */
export function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim();
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}
