// The attempt plan: which deployments a request tries, in order. Lower priority values first,
// weighted random order among equals, then the group's fallback groups in the same way.
import type { Deployment, ModelGroup, Registry } from './registry.ts';

function weightedOrder(deployments: readonly Deployment[], random: () => number): Deployment[] {
  const pool = [...deployments];
  const out: Deployment[] = [];
  while (pool.length > 0) {
    let total = 0;
    for (const d of pool) total += d.weight;
    let pick = random() * total;
    let index = 0;
    for (; index < pool.length - 1; index++) {
      pick -= pool[index].weight;
      if (pick < 0) break;
    }
    out.push(pool[index]);
    pool.splice(index, 1);
  }
  return out;
}

function orderGroup(group: ModelGroup, random: () => number): Deployment[] {
  if (group.deployments.length === 1) return [group.deployments[0]];
  const byPriority = new Map<number, Deployment[]>();
  for (const d of group.deployments) {
    const tier = byPriority.get(d.priority);
    if (tier) tier.push(d);
    else byPriority.set(d.priority, [d]);
  }
  const out: Deployment[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) out.push(...weightedOrder(byPriority.get(priority)!, random));
  return out;
}

export function planAttempts(group: ModelGroup, registry: Registry, random: () => number = Math.random): Deployment[] {
  const plan = orderGroup(group, random);
  const seen = new Set([group.name]);
  for (const name of group.fallbacks) {
    const fallback = registry.resolve(name);
    if (!fallback || seen.has(fallback.name)) continue;
    seen.add(fallback.name);
    plan.push(...orderGroup(fallback, random));
  }
  return plan;
}
