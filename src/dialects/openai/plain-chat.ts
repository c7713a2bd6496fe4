// The common case of a chat body checked by hand: text messages and scalar sampling options. The zod
// schema in request.ts stays the definition; this path accepts only bodies that schema accepts and
// returns what it would return (same keys, same order), and answers `undefined` for anything else —
// tools, content parts, response formats, a value out of range — which then takes the schema's path
// and gets its error messages. zod's parse allocates a context per field and dominates the cost of
// a small request (request.test.ts compares the two on generated bodies).
import { MAX_OUTPUT_TOKENS, REASONING_EFFORTS, type ChatRequest } from '../../core/canonical.ts';

type Check = (value: unknown) => boolean;

const EFFORTS: ReadonlySet<unknown> = new Set(REASONING_EFFORTS);

const isBool: Check = (v) => typeof v === 'boolean';
const range = (min: number, max: number): Check => (v) => typeof v === 'number' && v >= min && v <= max;
const intRange = (min: number, max: number): Check => (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

/** Scalar options in the schema's key order; `nullable` ones may be null (then dropped, as OpenAI treats null as unset). */
const SCALARS: ReadonlyArray<readonly [key: string, check: Check, nullable: boolean]> = [
  ['stream', isBool, true],
  ['parallel_tool_calls', isBool, false],
  ['temperature', range(0, 2), true],
  ['top_p', range(0, 1), true],
  ['max_tokens', intRange(1, MAX_OUTPUT_TOKENS), true],
  ['max_completion_tokens', intRange(1, MAX_OUTPUT_TOKENS), true],
  ['stop', isStop, true],
  ['n', intRange(1, 128), true],
  ['seed', Number.isSafeInteger, true],
  ['user', (v) => typeof v === 'string', false],
  ['reasoning_effort', (v) => EFFORTS.has(v), true],
  ['presence_penalty', range(-2, 2), true],
  ['frequency_penalty', range(-2, 2), true],
  ['logprobs', isBool, true],
  ['top_logprobs', intRange(0, 20), true],
];
const HANDLED = new Set(['model', 'messages', 'stream_options', ...SCALARS.map(([key]) => key)]);

function isStop(v: unknown): boolean {
  if (typeof v === 'string') return true;
  if (!Array.isArray(v) || v.length > 16) return false;
  for (const s of v) if (typeof s !== 'string') return false;
  return true;
}

/** The validated request, or `undefined` when the body needs the full schema. `body` holds known keys only. */
export function plainChatRequest(body: Record<string, unknown>): ChatRequest | undefined {
  for (const key in body) if (!HANDLED.has(key)) return undefined;
  const { model } = body;
  if (typeof model !== 'string' || model.length === 0) return undefined;
  const messages = plainMessages(body.messages);
  if (!messages) return undefined;
  const out: Record<string, unknown> = { model, messages };
  const stream = body.stream;
  if (stream !== undefined && stream !== null) {
    if (typeof stream !== 'boolean') return undefined;
    out.stream = stream;
  }
  const options = body.stream_options;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options)) return undefined;
    const copy: { include_usage?: boolean } = {};
    for (const key in options) {
      const value = (options as Record<string, unknown>)[key];
      if (key !== 'include_usage' || typeof value !== 'boolean') return undefined;
      copy.include_usage = value;
    }
    out.stream_options = copy;
  }
  for (let i = 1; i < SCALARS.length; i++) {
    const [key, check, nullable] = SCALARS[i];
    const value = body[key];
    if (value === undefined || (value === null && nullable)) continue;
    if (!check(value)) return undefined;
    out[key] = Array.isArray(value) ? value.slice() : value;
  }
  return out as unknown as ChatRequest;
}

/** Text-only system, developer, user and assistant messages with an optional name; else undefined. */
function plainMessages(value: unknown): ChatRequest['messages'] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const messages: ChatRequest['messages'] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const m = value[i] as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
    let keys = 0;
    for (const key in m) {
      if (key !== 'role' && key !== 'content' && key !== 'name') return undefined;
      keys++;
    }
    const { role, content, name } = m;
    if (role !== 'user' && role !== 'system' && role !== 'developer' && role !== 'assistant') return undefined;
    if (typeof content !== 'string') return undefined;
    if (name === undefined) {
      if (keys !== 2) return undefined;
      messages[i] = { role, content };
    } else {
      if (typeof name !== 'string') return undefined;
      messages[i] = { role, content, name };
    }
  }
  return messages;
}
