// Session and prompt-cache affinity: requests with the same session id, or the same long prompt
// prefix, stick to the deployment that served them while the provider's prompt cache is likely warm.
import type { ChatRequest } from '../core/canonical.ts';
import type { ProviderType } from '../providers/types.ts';

/** How long providers keep a prompt prefix cached after its last use (their documented minimums). */
const CACHE_TTL_MS: Partial<Record<ProviderType, number>> = {
  anthropic: 5 * 60_000,
  bedrock: 5 * 60_000,
  openai: 5 * 60_000,
  azure: 5 * 60_000,
  deepseek: 5 * 60_000,
  gemini: 3 * 60_000,
  vertex: 3 * 60_000,
};
const DEFAULT_TTL_MS = 5 * 60_000;

export function cacheTtlMs(type: ProviderType, override?: number): number {
  return override ?? CACHE_TTL_MS[type] ?? DEFAULT_TTL_MS;
}

/** One pinned key; entries also form the recency list, oldest at the head. */
interface Entry {
  key: string;
  deploymentId: string;
  expires: number;
  older: Entry | undefined;
  newer: Entry | undefined;
}

export interface AffinityKey {
  key: string;
  kind: 'session' | 'prefix';
  /** Approximate tokens of the shared prefix (a session's earlier turns), for the expected cache saving. */
  prefixTokens: number;
  /** Approximate tokens up to the last `cache_control` marker: what marker-only caches (Anthropic, Bedrock) keep. */
  markedTokens: number;
}

/** Providers whose prompt cache holds only the prefixes the request marks with `cache_control`. */
const MARKER_CACHES: ReadonlySet<ProviderType> = new Set<ProviderType>(['anthropic', 'bedrock']);

/** Prompt tokens a warm cache on a deployment of this provider type is expected to serve. */
export function expectedCachedTokens(key: AffinityKey, type: ProviderType): number {
  return MARKER_CACHES.has(type) ? key.markedTokens : key.prefixTokens;
}

/** Characters before the last message, and up to the last cache_control marker (tools first, as providers read them). */
function promptShape(req: ChatRequest): { earlierChars: number; markedChars: number } {
  let chars = 0;
  let marked = 0;
  if (req.tools?.some((t) => t.cache_control)) {
    for (const tool of req.tools) {
      chars += JSON.stringify(tool.function).length;
      if (tool.cache_control) marked = chars;
    }
  }
  let earlier = 0;
  const last = req.messages.length - 1;
  req.messages.forEach((message, i) => {
    if (i === last) earlier = chars;
    const content = message.content;
    if (typeof content === 'string') chars += content.length;
    else if (content) {
      for (const part of content) {
        if (part.type !== 'text') continue;
        chars += part.text.length;
        if (part.cache_control) marked = chars;
      }
    }
  });
  return { earlierChars: earlier, markedChars: marked };
}

/** FNV-1a over the first `limit` characters of the prompt, in two lanes to make collisions rare. */
function prefixHash(req: ChatRequest, limit: number): { hash: string; chars: number } {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  let chars = 0;
  for (const message of req.messages) {
    const content = message.content;
    const text = typeof content === 'string' ? content : content ? content.map((p) => (p.type === 'text' ? p.text : p.image_url.url.slice(0, 64))).join('') : '';
    const take = Math.min(text.length, limit - chars);
    for (let i = 0; i < take; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 16777619);
      b = Math.imul(b ^ c, 2246822507);
    }
    chars += take;
    if (chars >= limit) break;
  }
  return { hash: `${(a >>> 0).toString(36)}${(b >>> 0).toString(36)}`, chars };
}

function promptChars(req: ChatRequest, limit: number): number {
  let chars = 0;
  for (const message of req.messages) {
    const content = message.content;
    if (typeof content === 'string') chars += content.length;
    else if (content) for (const part of content) if (part.type === 'text') chars += part.text.length;
    if (chars >= limit) return chars;
  }
  return chars;
}

export class AffinityTable {
  private readonly entries = new Map<string, Entry>();
  /**
   * Least and most recently remembered entries. The oldest is found here, not with
   * `entries.keys().next()`: V8 leaves deleted slots at the front of a Map, so that call rescans them
   * on every eviction once the table is full (tens of µs per request at 100k entries).
   */
  private oldest: Entry | undefined;
  private newest: Entry | undefined;

  constructor(
    private readonly maxEntries: number,
    private readonly minPrefixChars: number,
  ) {}

  /** The affinity key of a request, or undefined when neither a session nor a long prefix exists. */
  keyFor(group: string, req: ChatRequest, sessionId: string | undefined): AffinityKey | undefined {
    if (sessionId) {
      const shape = promptShape(req);
      return { key: `${group}\u0000s\u0000${sessionId}`, kind: 'session', prefixTokens: Math.floor(shape.earlierChars / 4), markedTokens: Math.floor(shape.markedChars / 4) };
    }
    if (promptChars(req, this.minPrefixChars) < this.minPrefixChars) return undefined;
    const { hash, chars } = prefixHash(req, this.minPrefixChars);
    return { key: `${group}\u0000p\u0000${hash}`, kind: 'prefix', prefixTokens: Math.floor(chars / 4), markedTokens: Math.floor(promptShape(req).markedChars / 4) };
  }

  lookup(key: string, now: number): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      this.remove(entry);
      return undefined;
    }
    return entry.deploymentId;
  }

  /** Pins (or refreshes) a key to a deployment; the least recently remembered go first when the table is full. */
  remember(key: string, deploymentId: string, ttlMs: number, now: number): void {
    let entry = this.entries.get(key);
    if (entry) {
      this.unlink(entry);
      entry.deploymentId = deploymentId;
      entry.expires = now + ttlMs;
    } else {
      entry = { key, deploymentId, expires: now + ttlMs, older: undefined, newer: undefined };
      this.entries.set(key, entry);
    }
    entry.older = this.newest;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
    if (this.entries.size > this.maxEntries && this.oldest) this.remove(this.oldest);
  }

  private remove(entry: Entry): void {
    this.unlink(entry);
    this.entries.delete(entry.key);
  }

  private unlink(entry: Entry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
  }

  get size(): number {
    return this.entries.size;
  }
}
