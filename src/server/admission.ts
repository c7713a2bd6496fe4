// Governance on the request path for a virtual key: access policy, rate limits, concurrency and the
// budget reservation before the call; resizing when failover moves to a pricier deployment; settling
// the actual cost (and token count) after it. The master key is not governed.
import { maxCost } from '../catalog/pricing.ts';
import { estimatePromptTokens } from '../catalog/tokens.ts';
import { requestedMaxTokens, type ChatRequest } from '../core/canonical.ts';
import { GatewayError } from '../core/errors.ts';
import type { BudgetReservation } from '../governance/budget-engine.ts';
import { checkDeployment, checkModel, checkStrategy } from '../governance/policy.ts';
import type { KeyPrincipal, Principal } from '../governance/principal.ts';
import type { ConcurrencyLease, RateTicket } from '../governance/rate-limits.ts';
import type { GovernanceRuntime } from '../governance/runtime.ts';
import type { StrategyName } from '../governance/types.ts';
import type { Deployment, ModelGroup } from '../routing/registry.ts';

/** Reservations cover the offline prompt estimate with this margin (provider tokenizers differ). */
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
  return principal.kind === 'master' || checkModel(principal.policy, requested, group.aliases.length > 0 ? [group.name, ...group.aliases] : [group.name]);
}

/** Blended price per million tokens, weighted 3:1 input to output as usual traffic is. */
function blendedPrice(d: Deployment): number | undefined {
  return d.price ? (3 * d.price.inputPerMtok + d.price.outputPerMtok) / 4 : undefined;
}

/** The router's access-policy hook for this caller. */
export function deploymentFilter(principal: Principal, requested: string, group: ModelGroup): ((d: Deployment) => boolean) | undefined {
  if (principal.kind === 'master') return undefined;
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
  const promptTokens = promptTokensOverride ?? Math.ceil(estimatePromptTokens(req) * PROMPT_ESTIMATE_MARGIN);
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
