// The simulators' provider-side prompt cache: which prompt prefixes a provider has seen recently, so
// repeated prefixes come back as cached tokens in each format's own usage fields. Three behaviours:
// - breakpoints (Anthropic): prefixes ending at a `cache_control` block are written on first use
//   (cache_creation_input_tokens) and read afterwards (cache_read_input_tokens);
// - automatic (OpenAI; Gemini 2.5 implicit caching): any prefix of at least `minTokens` repeated
//   within the TTL is read, OpenAI in 128-token steps; the simulator compares prefixes at message
//   boundaries;
// - explicit handles (Gemini `cachedContent`): a cache created through the API counts in full.
// Token counts follow the simulators' own estimate (about four characters per token).
import { createHash, type Hash } from 'node:crypto';
import type { ChatRequest } from '../core/canonical.ts';

export interface PromptCacheUse {
  /** Prompt tokens served from the cache. */
  read: number;
  /** Prompt tokens written to the cache by this request (breakpoint caching only). */
  written: number;
  /** Of those, written with the 1-hour TTL (`cache_control.ttl: "1h"`). */
  written1h: number;
}

interface Boundary {
  tokens: number;
  hash: string;
  /** The marker's TTL in ms (breakpoints). */
  ttlMs?: number;
}

const NONE: PromptCacheUse = { read: 0, written: 0, written1h: 0 };
const ONE_HOUR_MS = 3_600_000;
const DEFAULT_TTL_MS = 5 * 60_000;
const MAX_PREFIXES = 50_000;

/** Prefix boundaries in the provider's processing order: tools, then messages (system first). */
function boundaries(req: ChatRequest, promptTokens: number, at: 'breakpoints' | 'messages'): Boundary[] {
  const out: Boundary[] = [];
  const hash: Hash = createHash('sha256');
  let chars = 0;
  const mark = (ttl?: string): void => {
    const b: Boundary = { tokens: Math.min(promptTokens, Math.ceil(chars / 4)), hash: hash.copy().digest('base64url') };
    if (ttl !== undefined) b.ttlMs = ttl === '1h' ? ONE_HOUR_MS : DEFAULT_TTL_MS;
    out.push(b);
  };
  hash.update(req.model);
  for (const tool of req.tools ?? []) {
    const text = JSON.stringify(tool.function);
    hash.update(text);
    chars += text.length;
    if (at === 'breakpoints' && tool.cache_control) mark(tool.cache_control.ttl ?? '5m');
  }
  for (const message of req.messages) {
    hash.update(`\u0000${message.role}\u0000`);
    chars += 4;
    const content = message.content;
    if (typeof content === 'string') {
      hash.update(content);
      chars += content.length;
    } else if (content) {
      for (const part of content) {
        if (part.type === 'text') {
          hash.update(part.text);
          chars += part.text.length;
          if (at === 'breakpoints' && part.cache_control) mark(part.cache_control.ttl ?? '5m');
        } else {
          hash.update(part.image_url.url);
          chars += 340;
        }
      }
    }
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) {
        hash.update(call.function.name + call.function.arguments);
        chars += call.function.name.length + call.function.arguments.length;
      }
    }
    if (at === 'messages') mark();
  }
  return out;
}

export class SimPromptCache {
  private readonly prefixes = new Map<string, number>();
  private readonly handles = new Map<string, { tokens: number; expiresAt: number }>();

  constructor(private readonly ttlMs = DEFAULT_TTL_MS) {}

  /** Anthropic: the longest cached breakpoint is read, the rest up to the last breakpoint is written. */
  breakpoints(req: ChatRequest, promptTokens: number, minTokens: number, now = Date.now()): PromptCacheUse {
    const eligible = boundaries(req, promptTokens, 'breakpoints').filter((b) => b.tokens >= minTokens);
    if (eligible.length === 0) return NONE;
    const read = this.longestLive(eligible, now);
    // Each breakpoint writes the stretch since the previous one, with its own TTL.
    let written = 0;
    let written1h = 0;
    let from = read;
    for (const b of eligible) {
      if (b.tokens <= from) continue;
      const stretch = b.tokens - from;
      written += stretch;
      if (b.ttlMs === ONE_HOUR_MS) written1h += stretch;
      from = b.tokens;
    }
    this.remember(eligible, now);
    return { read, written, written1h };
  }

  /** OpenAI and Gemini implicit caching: the longest repeated message-boundary prefix, in `step`-token units. */
  automatic(req: ChatRequest, promptTokens: number, minTokens: number, step: number, now = Date.now()): number {
    const eligible = boundaries(req, promptTokens, 'messages').filter((b) => b.tokens >= minTokens);
    if (eligible.length === 0) return 0;
    const read = this.longestLive(eligible, now);
    this.remember(eligible, now);
    const stepped = Math.floor(read / step) * step;
    return stepped >= minTokens ? stepped : 0;
  }

  /** Gemini explicit caching: a `cachedContents/…` resource holding `tokens` of content. */
  createHandle(name: string, tokens: number, ttlMs: number, now = Date.now()): void {
    this.handles.set(name, { tokens, expiresAt: now + ttlMs });
  }

  /** The tokens behind a live handle, undefined when it does not exist or expired. */
  handle(name: string, now = Date.now()): number | undefined {
    const handle = this.handles.get(name);
    if (!handle || handle.expiresAt <= now) return undefined;
    return handle.tokens;
  }

  private longestLive(boundaries: Boundary[], now: number): number {
    let read = 0;
    for (const b of boundaries) {
      const expires = this.prefixes.get(b.hash);
      if (expires !== undefined && expires > now) read = Math.max(read, b.tokens);
    }
    return read;
  }

  private remember(boundaries: Boundary[], now: number): void {
    for (const b of boundaries) {
      this.prefixes.delete(b.hash);
      this.prefixes.set(b.hash, now + (b.ttlMs ?? this.ttlMs));
    }
    while (this.prefixes.size > MAX_PREFIXES) {
      const oldest = this.prefixes.keys().next().value;
      if (oldest === undefined) break;
      this.prefixes.delete(oldest);
    }
  }
}
