// What identifies a cached response: the tenant and the canonical request, reduced to the fields
// that change the answer. Streaming flags, `user`, metadata and routing hints that only pick among
// equivalent deployments (session, hedging) are left out, so a streamed and a non-streamed identical
// request share one entry.
import { createHash } from 'node:crypto';
import type { ChatRequest, JsonValue } from '../core/canonical.ts';
import type { DialectName } from '../dialects/types.ts';
import type { Principal } from '../governance/principal.ts';
import type { RouteOptions } from '../routing/route-options.ts';

/** org + team, or org + key when the key has no team; the master key is a tenant of its own. */
export function tenantOf(principal: Principal): string {
  if (principal.kind === 'master') return 'master';
  return principal.team ? `o:${principal.org.id}/t:${principal.team.id}` : `o:${principal.org.id}/k:${principal.key.id}`;
}

/** JSON with object keys sorted, so that key order in tools or schemas does not split entries. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + stableStringify(value[i] === undefined ? null : value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) out += `${i ? ',' : ''}${JSON.stringify(keys[i])}:${stableStringify(record[keys[i]])}`;
  return `${out}}`;
}

// Body fields the Anthropic dialect does not carry into the canonical request but that change the answer.
const ANTHROPIC_ONLY = ['top_k', 'thinking', 'output_config'] as const;
// Pass-through fields that are about bookkeeping, not the answer.
const IGNORED_EXTRA = new Set(['cache', 'route', 'models', 'user', 'metadata', 'store', 'stream', 'stream_options', 'service_tier']);

/** Everything but the messages: what must be equal for two requests to be comparable at all. */
function parameters(req: ChatRequest, body: Record<string, unknown>, dialect: DialectName, options: RouteOptions): Record<string, unknown> {
  const params: Record<string, unknown> = {
    model: req.model,
    tools: req.tools,
    tool_choice: req.tool_choice,
    parallel_tool_calls: req.parallel_tool_calls,
    response_format: req.response_format,
    temperature: req.temperature,
    top_p: req.top_p,
    max_tokens: req.max_completion_tokens ?? req.max_tokens,
    stop: req.stop,
    n: req.n,
    seed: req.seed,
    reasoning_effort: req.reasoning_effort,
    presence_penalty: req.presence_penalty,
    frequency_penalty: req.frequency_penalty,
    logprobs: req.logprobs,
    top_logprobs: req.top_logprobs,
    logit_bias: req.logit_bias,
    route: {
      strategy: options.strategy,
      max_price: options.maxPricePerMtok,
      max_latency: options.maxLatencyMs,
      min_quality: options.minQuality,
      only: options.onlyProviders ? [...options.onlyProviders].sort() : undefined,
      ignore: options.ignoreProviders ? [...options.ignoreProviders].sort() : undefined,
      require: options.require.length > 0 ? [...options.require].sort() : undefined,
      fallbacks: options.fallbacks,
      quality: options.qualityTarget,
    },
  };
  if (req.extra) {
    const extra: Record<string, JsonValue> = {};
    for (const k in req.extra) if (!IGNORED_EXTRA.has(k)) extra[k] = req.extra[k];
    params.extra = extra;
  }
  if (dialect === 'anthropic') for (const field of ANTHROPIC_ONLY) if (body[field] !== undefined) params[`anthropic.${field}`] = body[field];
  return params;
}

export interface RequestFingerprint {
  /** Exact-match key: tenant, parameters and messages. */
  exact: string;
  /** Semantic scope: tenant and parameters; entries are compared by embedding only within one scope. */
  scope: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

export function fingerprint(tenant: string, req: ChatRequest, body: Record<string, unknown>, dialect: DialectName, options: RouteOptions): RequestFingerprint {
  const params = stableStringify(parameters(req, body, dialect, options));
  const scope = sha256(`${tenant}\u0000${params}`);
  return { scope, exact: sha256(`${scope}\u0000${stableStringify(req.messages)}`) };
}

/** The conversation as text, for the embedding of semantic mode. */
export function conversationText(req: ChatRequest): string {
  let out = '';
  for (const message of req.messages) {
    const content = message.content;
    let text = '';
    if (typeof content === 'string') text = content;
    else if (content) for (const part of content) if (part.type === 'text') text += part.text;
    if (message.role === 'assistant' && message.tool_calls) for (const call of message.tool_calls) text += ` ${call.function.name}(${call.function.arguments})`;
    out += `${message.role}: ${text}\n`;
  }
  return out;
}
