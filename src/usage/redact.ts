// Redaction of logged bodies: API keys, bearer tokens, passwords-like JSON fields, e-mail addresses,
// and a size cap. Runs off the hot path only for teams that turned body logging on.

/** Provider and Switchyard key shapes, bearer/basic credentials, JWTs, AWS access key ids, e-mails. */
const SECRET_PATTERNS: readonly RegExp[] = [
  /\bsk-(?:ant-|proj-|sy-)?[A-Za-z0-9_-]{16,}/g,
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  /\b(?:gh[pousr]|xox[abpr])[_-][A-Za-z0-9_-]{16,}/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
];
/** `"api_key": "…"`, `"password": "…"` and friends: the value goes whatever its shape. */
const SECRET_FIELDS = /("(?:api[_-]?key|apikey|password|passwd|secret|client_secret|access[_-]?token|refresh[_-]?token|authorization|x-api-key)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

export const REDACTED = '[REDACTED]';

export function redactSecrets(text: string): string {
  let out = text.replace(SECRET_FIELDS, `$1"${REDACTED}"`);
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, (m, scheme?: string) => (typeof scheme === 'string' && /^(bearer|basic)$/i.test(scheme) ? `${scheme} ${REDACTED}` : REDACTED));
  return out;
}

/**
 * Redacted and cut to `maxBytes` of UTF-8 (a cut body ends with a marker naming the original size).
 * The cut happens before redaction on a generous prefix so a huge body costs no more than the cap.
 */
export function loggableBody(text: string, maxBytes: number): string {
  const prefix = text.length > maxBytes * 2 ? text.slice(0, maxBytes * 2) : text;
  const redacted = redactSecrets(prefix);
  const bytes = Buffer.byteLength(text);
  if (Buffer.byteLength(redacted) <= maxBytes && prefix.length === text.length) return redacted;
  const cut = Buffer.from(redacted).subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  return `${cut}…[truncated, ${bytes} bytes]`;
}
