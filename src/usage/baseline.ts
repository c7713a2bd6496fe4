// The savings baseline: what a request would have cost on the model it is compared against. Computed
// once per request at accounting time from catalog prices already attached to the deployments.
import { computeCost, type ModelPrice } from '../catalog/pricing.ts';
import type { Usage } from '../core/canonical.ts';
import type { ModelGroup } from '../routing/registry.ts';

/** The most expensive price among a model group's deployments, for this usage. */
function groupCost(group: ModelGroup, usage: Usage): number | undefined {
  let max: number | undefined;
  for (const d of group.deployments) {
    if (!d.price) continue;
    const cost = computeCost(d.price, usage);
    if (max === undefined || cost > max) max = cost;
  }
  return max;
}

/**
 * Baseline cost: on `baseline` (a configured model group) when given and priced — savings may then be
 * negative, which is worth seeing — else the most expensive deployment among `candidates` (every group
 * the plan could have used), never below the actual cost.
 */
export function baselineCost(usage: Usage, actualCost: number, candidates: readonly ModelGroup[], baseline?: ModelGroup): number {
  if (baseline) {
    const configured = groupCost(baseline, usage);
    if (configured !== undefined) return configured;
  }
  let cost = actualCost;
  for (const group of candidates) {
    const c = groupCost(group, usage);
    if (c !== undefined && c > cost) cost = c;
  }
  return cost;
}

export type { ModelPrice };
