// Who sees which usage: the master key everything; org owners, admins and viewers their org; team
// admins and viewers their teams; anyone else their own requests. Applied as filters on every query
// and as a check on single records (a record the caller may not see is "not found").
import { GatewayError } from '../core/errors.ts';
import { can, type Actor } from '../governance/roles.ts';
import type { AnalyticsFilter, StoredRecord } from './types.ts';

export type UsageVisibility =
  | { kind: 'all' }
  | { kind: 'org'; orgId: string }
  | { kind: 'teams'; orgId: string; teamIds: string[] }
  | { kind: 'own'; orgId: string; userId: string; memberOf: string[] };

export function usageVisibility(actor: Actor): UsageVisibility {
  if (actor.kind === 'master') return { kind: 'all' };
  const { user } = actor;
  if (can(actor, 'usage.read.org', { orgId: user.orgId })) return { kind: 'org', orgId: user.orgId };
  const teamIds = user.teams.filter((m) => can(actor, 'usage.read.team', { orgId: user.orgId, teamId: m.teamId })).map((m) => m.teamId);
  if (teamIds.length > 0) return { kind: 'teams', orgId: user.orgId, teamIds };
  return { kind: 'own', orgId: user.orgId, userId: user.id, memberOf: user.teams.map((m) => m.teamId) };
}

/** The caller's filter narrowed to what they may see; asking for another team is refused. */
export function scopedFilter(visibility: UsageVisibility, requested: AnalyticsFilter): AnalyticsFilter {
  switch (visibility.kind) {
    case 'all':
      return requested;
    case 'org':
      return { ...requested, orgId: visibility.orgId };
    case 'teams':
      if (requested.teamId !== undefined && !visibility.teamIds.includes(requested.teamId)) throw notVisible('team_id');
      return { ...requested, orgId: visibility.orgId, ...(requested.teamId === undefined && { teamIds: visibility.teamIds }) };
    case 'own':
      if (requested.userId !== undefined && requested.userId !== visibility.userId) throw notVisible('user_id');
      if (requested.teamId !== undefined && !visibility.memberOf.includes(requested.teamId)) throw notVisible('team_id');
      return { ...requested, orgId: visibility.orgId, userId: visibility.userId };
  }
}

export function canSeeRecord(visibility: UsageVisibility, r: StoredRecord): boolean {
  switch (visibility.kind) {
    case 'all':
      return true;
    case 'org':
      return r.org_id === visibility.orgId;
    case 'teams':
      return r.org_id === visibility.orgId && r.team_id !== null && visibility.teamIds.includes(r.team_id);
    case 'own':
      return r.org_id === visibility.orgId && r.user_id === visibility.userId;
  }
}

function notVisible(param: string): GatewayError {
  return new GatewayError('permission', `you may not read this ${param === 'team_id' ? "team's" : "user's"} usage`, { param, code: 'insufficient_permissions' });
}

const DIGITS = /^\d+$/;
const DAY_MS = 86_400_000;

/** `from`/`to` as ISO 8601 or epoch ms; default the last 24 hours. */
export function parseRange(query: { from?: string; to?: string }, now: number, defaultSpanMs = DAY_MS): { from: number; to: number } {
  const to = query.to === undefined ? now : parseTime(query.to, 'to');
  const from = query.from === undefined ? to - defaultSpanMs : parseTime(query.from, 'from');
  if (from >= to) throw new GatewayError('bad_request', '`from` must be before `to`', { param: 'from', code: 'invalid_value' });
  return { from, to };
}

function parseTime(value: string, param: string): number {
  const t = DIGITS.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t) || t < 0 || t > 253_402_300_799_999) {
    throw new GatewayError('bad_request', `invalid value for ${param}: expected an ISO 8601 date-time or unix milliseconds`, { param, code: 'invalid_value' });
  }
  return t;
}
