// Last line of defence for secrets in what the gateway emits: every client-facing error message and
// logged error passes through `redactSecrets`, which blanks the configured secret values (provider
// keys, master key, declared virtual keys, webhook secrets, database passwords) and anything shaped
// like a well-known credential. Providers do echo keys back ("Incorrect API key provided: sk-…").
const known = new Set<string>();

/** Shorter strings are too likely to occur innocently in a message. */
const MIN_SECRET_LENGTH = 8;

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_-]{12,}/g, 'sk-[redacted]'],
  [/\bAKIA[0-9A-Z]{16}\b/g, 'AKIA[redacted]'],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, 'AIza[redacted]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]'],
];

/** Adds values to blank out (kept for the life of the process: redacting a stale value costs nothing). */
export function rememberSecrets(values: Iterable<string | undefined>): void {
  for (const value of values) if (value !== undefined && value.length >= MIN_SECRET_LENGTH) known.add(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

interface SecretBearingConfig {
  server: { master_key?: string };
  storage: { postgres?: string; redis?: string };
  providers: ReadonlyArray<{ api_key?: string; aws_access_key_id?: string; aws_secret_access_key?: string; aws_session_token?: string; headers?: Record<string, string> }>;
  models: ReadonlyArray<{ deployments: ReadonlyArray<{ api_key?: string }> }>;
  keys?: ReadonlyArray<{ key: string }>;
  governance?: { alerts?: { webhook_secret?: string } };
}

function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

/** Every secret value a configuration holds. */
export function configSecrets(config: SecretBearingConfig): string[] {
  const out: Array<string | undefined> = [config.server.master_key, urlPassword(config.storage.postgres), urlPassword(config.storage.redis), config.governance?.alerts?.webhook_secret];
  for (const p of config.providers) out.push(p.api_key, p.aws_access_key_id, p.aws_secret_access_key, p.aws_session_token, ...Object.values(p.headers ?? {}));
  for (const m of config.models) for (const d of m.deployments) out.push(d.api_key);
  for (const k of config.keys ?? []) out.push(k.key);
  return out.filter((v): v is string => v !== undefined);
}
