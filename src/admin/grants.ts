// The caller's grants, spelled out for clients (the dashboard hides what a role cannot do): each
// permission with its reach, from the permission matrix and the caller's seats. The admin API still
// checks every call against the object it touches; this is a description, not an authority.
import { PERMISSION_MATRIX, PERMISSIONS, type Actor, type Permission, type PermissionRow, type Seat } from '../governance/roles.ts';
import type { OrgRole, TeamRole } from '../governance/types.ts';

export interface Grant {
  permission: Permission;
  /** `all`: the master key, everywhere. `org`: the caller's org. `team`: `team_id`. `own`: objects the caller owns. */
  reach: 'all' | 'org' | 'team' | 'own';
  team_id: string | null;
}

const ORG_SEAT: Readonly<Record<OrgRole, Seat>> = { org_owner: 'org_owner', org_admin: 'org_admin', member: 'org_member', viewer: 'org_viewer' };
const TEAM_SEAT: Readonly<Record<TeamRole, Seat>> = { team_admin: 'team_admin', member: 'team_member', viewer: 'team_viewer' };

export function grantsOf(actor: Actor): Grant[] {
  if (actor.kind === 'master') return PERMISSIONS.map((permission) => ({ permission, reach: 'all', team_id: null }));
  const grants = new Map<string, Grant>();
  const add = (grant: Grant): void => {
    grants.set(`${grant.permission} ${grant.reach} ${grant.team_id ?? ''}`, grant);
  };
  for (const permission of PERMISSIONS) {
    const row: PermissionRow & Partial<Record<Seat, 'org' | 'team' | 'own'>> = PERMISSION_MATRIX[permission];
    const orgReach = row[ORG_SEAT[actor.user.role]];
    if (orgReach) add({ permission, reach: orgReach, team_id: null });
    for (const membership of actor.user.teams) {
      const reach = row[TEAM_SEAT[membership.role]];
      if (reach) add({ permission, reach, team_id: reach === 'team' ? membership.teamId : null });
    }
  }
  return [...grants.values()];
}
