// Governance on the request path for a virtual key: access policy, rate limits, concurrency and the
// budget reservation before the call; resizing when failover moves to a pricier deployment; settling
// the actual cost (and token count) after it. The master key is not governed.
import { maxCost } from '../catalog/pricing.ts';
import { IMAGE_TOKENS_HIGH, IMAGE_TOKENS_LOW, REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE, TOKENS_PER_NAME } from '../catalog/tokens.ts';
import { requestedMaxTokens, type ChatRequest } from '../core/canonical.ts';
import { GatewayError } from '../core/errors.ts';
import type { BudgetReservation } from '../governance/budget-engine.ts';
import { checkDeployment, checkModel, checkStrategy, UNRESTRICTED } from '../governance/policy.ts';
import type { KeyPrincipal, Principal } from '../governance/principal.ts';
import type { ConcurrencyLease, RateTicket } from '../governance/rate-limits.ts';
import type { GovernanceRuntime } from '../governance/runtime.ts';
import type { StrategyName } from '../governance/types.ts';
import type { Deployment, ModelGroup } from '../routing/registry.ts';

/** Reservations cover the prompt estimate with this margin (provider tokenizers differ). */
export const PROMPT_ESTIMATE_MARGIN = 1.25;
/** Output tokens reserved when neither the request nor the catalog caps the output. */
export const DEFAULT_RESERVED_OUTPUT = 4096;

export interface Admitted {
  principal: KeyPrincipal;
  requestId: string;
  promptTokens: number;
  maxOutput: number | undefined;
  ticket?: RateTicket;
  lease?: ConcurrencyLease;
  reservation?: BudgetReservation;
  headers: Record<string, string>;
  settled: boolean;
}

export function modelAllowed(principal: Principal, group: ModelGroup, requested: string): boolean {
  // An unrestricted key allows every model: no name list built per request.
  if (principal.kind === 'master' || principal.policy === UNRESTRICTED) return true;
  return checkModel(principal.policy, requested, group.aliases.length > 0 ? [group.name, ...group.aliases] : [group.name]);
}

/** Blended price per million tokens, weighted 3:1 input to output as usual traffic is. */
function blendedPrice(d: Deployment): number | undefined {
  return d.price ? (3 * d.price.inputPerMtok + d.price.outputPerMtok) / 4 : undefined;
}

/** The router's access-policy hook for this caller. */
export function deploymentFilter(principal: Principal, requested: string, group: ModelGroup): ((d: Deployment) => boolean) | undefined {
  // No filter where it would admit every deployment (the master key, an unrestricted key): no closure per request.
  if (principal.kind === 'master' || principal.policy === UNRESTRICTED) return undefined;
  const names = [requested, group.name, ...group.aliases];
  return (d) =>
    checkDeployment(principal.policy, {
      providerName: d.target.endpoint.name,
      providerType: d.target.endpoint.type,
      model: d.target.model,
      requestedNames: names,
      blendedPricePerMtok: blendedPrice(d),
    });
}

/** Per ASCII character: 1 letter or digit, 2 other printable (most punctuation), 0 space or control. */
const CHAR_CLASS = new Uint8Array(128).map((_, c) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? 1 : c > 32 && c < 127 ? 2 : 0,
);

/**
 * A text's tokens without the tokenizer: the larger of 4 characters per token and one per word plus
 * most punctuation (code and markup tokenize near 2.5 characters per token); UTF-8 bytes beyond one
 * per character add half a token each (a CJK character, ~1 token, counts 1.25).
 */
function textTokens(text: string): number {
  let words = 0;
  let symbols = 0;
  let previous = 0;
  // Branch-free counting over a class table: a word starts at a letter or digit after anything else.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const k = c < 128 ? CHAR_CLASS[c] : 0;
    words += k & ~previous & 1;
    symbols += k >> 1;
    previous = k;
  }
  return Math.max(text.length / 4, words + 0.8 * symbols) + (Buffer.byteLength(text, 'utf8') - text.length) / 2;
}

/**
 * The prompt size that reservations and token limits hold, without running the tokenizer on the
 * request path (BPE cost ~6 % of a request's CPU). Within about ±20 % of the tokenizer's count for
 * prose and code, higher for other scripts; the reservation margin comes on top.
 */
export function reservedPromptTokens(req: ChatRequest): number {
  let n = REPLY_PRIMING_TOKENS;
  for (const message of req.messages) {
    n += TOKENS_PER_MESSAGE;
    const content = message.content;
    if (typeof content === 'string') n += textTokens(content);
    else if (content) {
      for (const part of content) n += part.type === 'text' ? textTokens(part.text) : part.image_url.detail === 'low' ? IMAGE_TOKENS_LOW : IMAGE_TOKENS_HIGH;
    }
    if ('name' in message && message.name !== undefined) n += TOKENS_PER_NAME;
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) n += 3 + textTokens(call.function.name) + textTokens(call.function.arguments);
    }
  }
  if (req.tools) for (const tool of req.tools) n += textTokens(JSON.stringify(tool.function));
  if (req.response_format?.type === 'json_schema') n += textTokens(JSON.stringify(req.response_format.json_schema));
  return Math.ceil(n);
}

function reservedCost(d: Deployment, admitted: Pick<Admitted, 'promptTokens' | 'maxOutput'>): number {
  if (!d.price) return 0;
  return maxCost(d.price, admitted.promptTokens, admitted.maxOutput ?? d.maxOutputTokens ?? DEFAULT_RESERVED_OUTPUT);
}

/** Strategy permission, rate limits, concurrency and the budget reservation, in that order. */
export async function admit(
  runtime: GovernanceRuntime,
  principal: KeyPrincipal,
  requestId: string,
  req: ChatRequest,
  strategy: StrategyName,
  first: Deployment | undefined,
  now: number,
  promptTokensOverride?: number,
): Promise<Admitted> {
  if (!checkStrategy(principal.policy, strategy)) {
    throw new GatewayError('permission', `strategy '${strategy}' is not allowed for this key`, { code: 'strategy_not_allowed', param: 'x-switchyard-strategy' });
  }
  const promptTokens = promptTokensOverride ?? Math.ceil(reservedPromptTokens(req) * PROMPT_ESTIMATE_MARGIN);
  const admitted: Admitted = { principal, requestId, promptTokens, maxOutput: requestedMaxTokens(req), headers: {}, settled: false };
  const limiter = runtime.limiter;
  const decision = await limiter.admit(principal.limits, promptTokens + (admitted.maxOutput ?? first?.maxOutputTokens ?? DEFAULT_RESERVED_OUTPUT), now);
  admitted.headers = decision.headers;
  if (!decision.ok) {
    decision.error.headers = decision.headers;
    throw decision.error;
  }
  admitted.ticket = decision.ticket;
  const slot = await limiter.acquire(principal.limits);
  if (!slot.ok) {
    await limiter.settleTokens(decision.ticket, 0);
    throw slot.error;
  }
  admitted.lease = slot.lease;
  if (principal.budgets.length > 0) {
    const amount = first ? reservedCost(first, admitted) : 0;
    const budget = await runtime.budgets.reserve(requestId, principal.budgets, amount, now, principal.timezone);
    if (!budget.ok) {
      await release(runtime, admitted);
      throw budget.error;
    }
    admitted.reservation = budget.reservation;
  }
  runtime.touchKey(principal.key.id, now);
  return admitted;
}

/** Before an attempt: grow the reservation if failover chose a pricier deployment. */
export async function coverAttempt(runtime: GovernanceRuntime, admitted: Admitted | undefined, deployment: Deployment): Promise<void> {
  if (!admitted?.reservation) return;
  const needed = reservedCost(deployment, admitted);
  if (needed <= admitted.reservation.amountUsd) return;
  const resized = await runtime.budgets.resize(admitted.reservation, needed);
  if (!resized.ok) throw resized.error;
  admitted.reservation = resized.reservation;
}

/** After the request (whatever its outcome): charge what it cost and give back what it held. */
export async function settle(runtime: GovernanceRuntime, admitted: Admitted | undefined, costUsd: number, totalTokens: number, now: number): Promise<void> {
  if (!admitted || admitted.settled) return;
  admitted.settled = true;
  const work: Array<Promise<unknown>> = [];
  if (admitted.reservation) work.push(runtime.budgets.settle(admitted.reservation, costUsd, now));
  if (admitted.ticket) work.push(runtime.limiter.settleTokens(admitted.ticket, totalTokens));
  if (admitted.lease) work.push(runtime.limiter.release(admitted.lease));
  await Promise.all(work);
}

async function release(runtime: GovernanceRuntime, admitted: Admitted): Promise<void> {
  admitted.settled = true;
  if (admitted.ticket) await runtime.limiter.settleTokens(admitted.ticket, 0);
  if (admitted.lease) await runtime.limiter.release(admitted.lease);
}
