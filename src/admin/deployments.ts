// GET /admin/v1/deployments: every deployment of the live routing snapshot with its health — circuit
// state, latency, success rate and its share of the last minute's traffic — for the dashboard.
import { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import { can, type Actor } from '../governance/roles.ts';
import { DeploymentHealth, type HealthRegistry } from '../routing/health/index.ts';
import type { Registry } from '../routing/registry.ts';
import { responseComponents } from './schemas.ts';

/** What the admin API may read of a running gateway (the Gateway satisfies it). */
export interface LiveRouting {
  readonly registry: Registry;
  readonly health: HealthRegistry;
}

/** Requests and tokens are counted over the health module's sliding minute. */
export const RECENT_WINDOW_SECONDS = 60;

const timestamp = z.string().meta({ format: 'date-time' });

export const deploymentStatus = z.object({
  id: z.string().meta({ description: 'Stable deployment id, `<group>/<provider>/<model>`' }),
  model_group: z.string(),
  mode: z.enum(['chat', 'embedding']),
  provider: z.string().meta({ description: 'Provider name from the configuration' }),
  provider_type: z.string(),
  provider_model: z.string(),
  region: z.string().nullable(),
  weight: z.number(),
  priority: z.number(),
  circuit_state: z.enum(['closed', 'open', 'half_open']),
  available: z.boolean().meta({ description: 'Whether the router may send to it now (circuit and 429 cool-down)' }),
  measured: z.boolean().meta({ description: 'False until live traffic has measured it; latency figures are then priors' }),
  ewma_ttft_ms: z.number().meta({ description: 'EWMA of time to first token' }),
  ttft_p90_ms: z.number(),
  tokens_per_second: z.number(),
  success_rate: z.number().meta({ description: 'Smoothed success rate over the health window' }),
  in_flight: z.number(),
  recent_requests: z.number().meta({ description: 'Attempts started in the last minute' }),
  recent_tokens: z.number(),
  traffic_share: z.number().meta({ description: "recent_requests / all deployments' recent_requests (0 when idle)" }),
  group_share: z.number().meta({ description: "recent_requests / its model group's recent_requests (0 when idle)" }),
  cooldown_until: timestamp.nullable().meta({ description: 'End of a 429 cool-down in progress' }),
  recovers_at: timestamp.nullable().meta({ description: 'When an open circuit or cool-down ends; null when available' }),
});

export const deploymentList = z.object({
  object: z.literal('list'),
  data: z.array(deploymentStatus),
  window_seconds: z.number(),
  generated_at: timestamp,
});
responseComponents.add(deploymentStatus, { id: 'DeploymentStatus' });
responseComponents.add(deploymentList, { id: 'DeploymentList', description: 'Live deployments with their health' });

export type DeploymentStatus = z.output<typeof deploymentStatus>;

/** Deployment health is gateway-wide: org readers (owners, admins, viewers) and the master key see it. */
export function requireDeploymentsAccess(actor: Actor): void {
  if (actor.kind === 'master' || can(actor, 'config.read', { orgId: actor.user.orgId })) return;
  throw new GatewayError('permission', 'permission denied: your role may not read deployment health', { code: 'permission_denied' });
}

/** The deployments and their health at `now`; without a live gateway (the CLI's direct mode), none. */
export function listDeployments(routing: LiveRouting | undefined, now: number): z.output<typeof deploymentList> {
  const generatedAt = new Date(now).toISOString();
  if (!routing) return { object: 'list', data: [], window_seconds: RECENT_WINDOW_SECONDS, generated_at: generatedAt };
  const { registry, health } = routing;
  const rows: Array<Omit<DeploymentStatus, 'traffic_share' | 'group_share'>> = [];
  const groupTotals = new Map<string, number>();
  let total = 0;
  for (const group of registry.groups) {
    for (const d of group.deployments) {
      // Reading must not create health entries: an unseen deployment shows its priors.
      const h = health.peek(d.id) ?? new DeploymentHealth(d.id, health.config);
      const snap = h.snapshot(now);
      const recoversAt = h.recoversAt(now);
      rows.push({
        id: d.id,
        model_group: group.name,
        mode: group.mode,
        provider: d.target.endpoint.name,
        provider_type: d.target.endpoint.type,
        provider_model: d.target.model,
        region: d.region ?? null,
        weight: d.weight,
        priority: d.priority,
        circuit_state: snap.state,
        available: h.available(now),
        measured: h.measured,
        ewma_ttft_ms: round(snap.ttft_ms, 1),
        ttft_p90_ms: round(snap.ttft_p90_ms, 1),
        tokens_per_second: round(snap.tps, 1),
        success_rate: round(snap.success_rate, 4),
        in_flight: snap.in_flight,
        recent_requests: snap.rpm,
        recent_tokens: snap.tpm,
        cooldown_until: snap.cooldown_until === null ? null : new Date(snap.cooldown_until).toISOString(),
        recovers_at: recoversAt > now ? new Date(recoversAt).toISOString() : null,
      });
      total += snap.rpm;
      groupTotals.set(group.name, (groupTotals.get(group.name) ?? 0) + snap.rpm);
    }
  }
  const data = rows.map((row) => {
    const groupTotal = groupTotals.get(row.model_group) ?? 0;
    return {
      ...row,
      traffic_share: total === 0 ? 0 : round(row.recent_requests / total, 4),
      group_share: groupTotal === 0 ? 0 : round(row.recent_requests / groupTotal, 4),
    };
  });
  return { object: 'list', data, window_seconds: RECENT_WINDOW_SECONDS, generated_at: generatedAt };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
