// Whether a client's request bytes may be forwarded to a provider as they are (same-dialect pass-through).
//
// The gateway reads a body with JSON.parse, where the last of duplicate keys wins; some JSON readers
// keep the first. Forwarding bytes that say `"model"` twice could let a provider serve a model that
// access policy and billing never saw. So bytes are forwarded only when each key the gateway acts on
// appears at most once, as literal text: no `\u` escape anywhere (it could spell a key in another
// form). Any other body is serialised from the parsed object, as before. Nor are bodies the gateway
// took fields out of (`route`, `models`, `cache`): the top-level keys are counted at parse time.

const MODEL = Buffer.from('"model"');
const STREAM = Buffer.from('"stream"');
const STREAM_OPTIONS = Buffer.from('"stream_options"');
const INCLUDE_USAGE = Buffer.from('"include_usage"');
const UNICODE_ESCAPE = Buffer.from('\\u');

function occursMoreThanOnce(bytes: Buffer, token: Buffer): boolean {
  const first = bytes.indexOf(token);
  return first !== -1 && bytes.indexOf(token, first + token.length) !== -1;
}

export interface ClientBytes {
  bytes: Buffer;
  /** Top-level keys of the body as parsed from `bytes`. */
  keys: number;
}

function keyCount(body: Record<string, unknown>): number {
  let keys = 0;
  for (const _ in body) keys++;
  return keys;
}

/** The client's bytes and what they parsed to, when they could be forwarded; else undefined. */
export function clientBytes(bytes: Buffer, parsed: Record<string, unknown>): ClientBytes | undefined {
  if (bytes.indexOf(UNICODE_ESCAPE) !== -1) return undefined;
  if (occursMoreThanOnce(bytes, MODEL)) return undefined;
  // A key absent from the parsed body appears nowhere as a key in the bytes: only present ones can repeat.
  if (parsed.stream !== undefined && occursMoreThanOnce(bytes, STREAM)) return undefined;
  if (parsed.stream_options !== undefined && (occursMoreThanOnce(bytes, STREAM_OPTIONS) || occursMoreThanOnce(bytes, INCLUDE_USAGE))) return undefined;
  return { bytes, keys: keyCount(parsed) };
}

/** The bytes, if `body` still has every top-level key it was parsed with (the gateway removed none). */
export function forwardable(client: ClientBytes | undefined, body: Record<string, unknown>): Buffer | undefined {
  return client && keyCount(body) === client.keys ? client.bytes : undefined;
}
