// Per-request routing controls: the `x-switchyard-strategy` header, the body's `route` object and
// OpenRouter-style `models: [...]` fallbacks. They are removed from the body before it goes upstream.
import { z } from 'zod';
import { strategySchema, type StrategyName } from '../config/routing-schema.ts';
import type { ChatRequest } from '../core/canonical.ts';
import { badRequest } from '../core/errors.ts';

export const REQUIREMENTS = ['tools', 'vision', 'json', 'reasoning'] as const;
export type Requirement = (typeof REQUIREMENTS)[number];

const routeSchema = z.strictObject({
  strategy: strategySchema.optional(),
  max_price_per_mtok: z.number().nonnegative().optional(),
  max_latency_ms: z.number().positive().optional(),
  min_quality: z.number().min(0).max(1).optional(),
  providers: z.strictObject({ only: z.array(z.string()).optional(), ignore: z.array(z.string()).optional() }).optional(),
  require: z.array(z.enum(REQUIREMENTS)).optional(),
  fallbacks: z.array(z.string().min(1)).max(16).optional(),
  session_id: z.string().min(1).max(256).optional(),
  hedge: z.boolean().optional(),
  quality_target: z.number().min(0).max(1).optional(),
});

export type RouteBody = z.output<typeof routeSchema>;

export interface RouteOptions {
  strategy?: StrategyName;
  maxPricePerMtok?: number;
  maxLatencyMs?: number;
  minQuality?: number;
  onlyProviders?: ReadonlySet<string>;
  ignoreProviders?: ReadonlySet<string>;
  require: readonly Requirement[];
  /** Fallback model groups for this request, replacing the configured ones. */
  fallbacks?: readonly string[];
  sessionId?: string;
  hedge?: boolean;
  qualityTarget?: number;
}

const NO_OPTIONS: RouteOptions = Object.freeze({ require: Object.freeze([]) as readonly Requirement[] });

function fieldError(error: z.ZodError, prefix: string): never {
  const issue = error.issues[0];
  const param = [prefix, ...issue.path.map(String)].join('.');
  throw badRequest(`Invalid '${param}': ${issue.message}`, param);
}

/**
 * Reads and removes the routing controls from the client's body (and the canonical request's
 * pass-through fields), so providers never see them.
 */
export function takeRouteOptions(
  body: Record<string, unknown>,
  req: ChatRequest,
  headers: { strategy?: string | string[]; session?: string | string[] },
): RouteOptions {
  const route = body.route;
  const models = body.models;
  if (route !== undefined) delete body.route;
  if (models !== undefined) delete body.models;
  if (req.extra) {
    delete req.extra.route;
    delete req.extra.models;
  }
  const headerStrategy = typeof headers.strategy === 'string' ? headers.strategy : undefined;
  const headerSession = typeof headers.session === 'string' ? headers.session : undefined;
  if (route === undefined && models === undefined && !headerStrategy && !headerSession) return NO_OPTIONS;

  const options: RouteOptions = { require: [] };
  if (route !== undefined) {
    const parsed = routeSchema.safeParse(route);
    if (!parsed.success) fieldError(parsed.error, 'route');
    const r = parsed.data;
    options.strategy = r.strategy;
    options.maxPricePerMtok = r.max_price_per_mtok;
    options.maxLatencyMs = r.max_latency_ms;
    options.minQuality = r.min_quality;
    if (r.providers?.only) options.onlyProviders = new Set(r.providers.only);
    if (r.providers?.ignore) options.ignoreProviders = new Set(r.providers.ignore);
    options.require = r.require ?? [];
    options.fallbacks = r.fallbacks;
    options.sessionId = r.session_id;
    options.hedge = r.hedge;
    options.qualityTarget = r.quality_target;
  }
  if (models !== undefined) {
    const parsed = z.array(z.string().min(1)).min(1).max(16).safeParse(models);
    if (!parsed.success) fieldError(parsed.error, 'models');
    options.fallbacks = parsed.data.filter((m) => m !== req.model);
  }
  if (headerStrategy) {
    const parsed = strategySchema.safeParse(headerStrategy);
    if (!parsed.success) throw badRequest(`x-switchyard-strategy must be one of cost, latency, availability, balanced, quality`, 'x-switchyard-strategy');
    options.strategy = parsed.data;
  }
  if (headerSession && !options.sessionId) options.sessionId = headerSession.slice(0, 256);
  return options;
}
