// Per-request cache controls: the body's `cache` object (removed before the request goes upstream)
// or the `x-switchyard-cache` header. The body wins where both set the same field.
import { z } from 'zod';
import type { ChatRequest } from '../core/canonical.ts';
import { badRequest } from '../core/errors.ts';
import { CACHE_MATCHES, type CacheMatch } from './config.ts';

export const REQUEST_MODES = ['on', 'off', 'force', 'refresh'] as const;
/** `on`: use the cache; `off`: neither read nor write; `force`: use it even when temperature > 0; `refresh`: skip the read, store the new answer. */
export type RequestCacheMode = (typeof REQUEST_MODES)[number];

export interface CacheControls {
  mode?: RequestCacheMode;
  ttlS?: number;
  match?: CacheMatch;
  threshold?: number;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `300`, `"300"`, `"30s"`, `"5m"`, `"2h"`, `"1d"` → seconds; undefined when malformed. */
export function parseTtl(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string' || value.length === 0) return undefined;
  const unit = UNITS[value[value.length - 1]];
  const n = Number(unit ? value.slice(0, -1) : value);
  return Number.isFinite(n) && n > 0 ? n * (unit ?? 1) : undefined;
}

const ttl = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseTtl(v);
  if (s === undefined) ctx.addIssue({ code: 'custom', message: 'a TTL is a positive number of seconds or a duration like "30s", "5m", "2h"' });
  return s ?? 0;
});

const bodySchema = z
  .strictObject({
    mode: z.enum(REQUEST_MODES).optional(),
    ttl: ttl.optional(),
    match: z.enum(CACHE_MATCHES).optional(),
    similarity_threshold: z.number().gt(0).max(1).optional(),
  })
  .transform((c): CacheControls => ({ mode: c.mode, ttlS: c.ttl, match: c.match, threshold: c.similarity_threshold }));

const MODE_SET: ReadonlySet<string> = new Set(REQUEST_MODES);
const MATCH_SET: ReadonlySet<string> = new Set(CACHE_MATCHES);

/** `x-switchyard-cache: force` or `ttl=300, mode=force, match=semantic, threshold=0.9`. */
export function parseCacheHeader(value: string): CacheControls {
  const out: CacheControls = {};
  for (const item of value.split(',')) {
    const part = item.trim();
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    const arg = eq === -1 ? '' : part.slice(eq + 1).trim();
    if (eq === -1 && MODE_SET.has(name)) out.mode = name as RequestCacheMode;
    else if (eq === -1 && (name === 'no-store' || name === 'no-cache')) out.mode = name === 'no-store' ? 'off' : 'refresh';
    else if (name === 'mode' && MODE_SET.has(arg)) out.mode = arg as RequestCacheMode;
    else if (name === 'ttl' && parseTtl(arg) !== undefined) out.ttlS = parseTtl(arg);
    else if (name === 'match' && MATCH_SET.has(arg)) out.match = arg as CacheMatch;
    else if (name === 'threshold' && Number(arg) > 0 && Number(arg) <= 1) out.threshold = Number(arg);
    else throw badRequest(`x-switchyard-cache: cannot read '${part}' (use mode=on|off|force|refresh, ttl=<seconds or 5m>, match=exact|semantic, threshold=<0..1>)`, 'x-switchyard-cache');
  }
  if ((out.ttlS !== undefined || out.match !== undefined) && out.mode === undefined) out.mode = 'on';
  return out;
}

/**
 * Reads and removes the body's `cache` field (and its copy among the pass-through fields), so
 * providers never see it, and merges it over the header.
 */
export function takeCacheControls(body: Record<string, unknown>, req: ChatRequest, header: string | undefined): CacheControls | undefined {
  const raw = body.cache;
  if (raw !== undefined) delete body.cache;
  if (req.extra && 'cache' in req.extra) {
    delete req.extra.cache;
    if (Object.keys(req.extra).length === 0) delete req.extra;
  }
  const fromHeader = header ? parseCacheHeader(header) : undefined;
  if (raw === undefined) return fromHeader;
  if (typeof raw === 'boolean') return { ...fromHeader, mode: raw ? (fromHeader?.mode ?? 'on') : 'off' };
  const parsed = bodySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = ['cache', ...issue.path.map(String)].join('.');
    throw badRequest(`Invalid '${param}': ${issue.message}`, param);
  }
  // A `cache` object in the body is an opt-in by itself.
  const fromBody = parsed.data;
  return {
    mode: fromBody.mode ?? fromHeader?.mode ?? 'on',
    ttlS: fromBody.ttlS ?? fromHeader?.ttlS,
    match: fromBody.match ?? fromHeader?.match,
    threshold: fromBody.threshold ?? fromHeader?.threshold,
  };
}
