// Who may do what: the permission matrix of the admin API, as data (docs and tests enumerate it) and
// the one function that evaluates it. Deny by default: anything not granted by a cell is refused.
import type { OrgRole, TeamRole, User } from './types.ts';

/**
 * Admin actions. The suffix of a `.own` / `.team` / `.any` / `.org` permission names the reach of
 * the action; the others reach as far as the holder's seat (whole org, or one team).
 */
export const PERMISSION_DESCRIPTIONS = {
  'org.read': 'read the org record (name, time zone, policy)',
  'org.manage': 'change org settings (name, time zone, policy)',
  'org.admins.manage': 'grant or revoke org_owner/org_admin; change or delete a user who holds one',
  'team.create': 'create a team',
  'team.read': 'read a team',
  'team.manage': "change a team's name, policy, limits, default strategy; delete it",
  'user.read': 'read a user',
  'user.manage': 'with a team: add, remove or change a member of it; without: create, delete or re-role a user',
  'key.create.own': 'create a key for oneself',
  'key.read.own': "read one's own keys",
  'key.manage.own': "revoke, rotate or edit one's own keys",
  'key.read.team': "read a team's keys",
  'key.manage.team': "create, revoke, rotate or edit a team's keys",
  'key.read.any': 'read any key in the org',
  'key.manage.any': 'create, revoke, rotate or edit any key in the org',
  'budget.read': 'read budgets and their spend',
  'budget.manage': 'create, change or delete budgets',
  'usage.read.own': "read one's own usage",
  'usage.read.team': "read a team's usage",
  'usage.read.org': "read the whole org's usage",
  'audit.read': 'read the audit log',
  'config.read': 'read the running configuration (secrets redacted)',
} as const;
/** Every permission, in matrix order. */
export const PERMISSIONS: readonly Permission[] = Object.keys(PERMISSION_DESCRIPTIONS) as Permission[];
export type Permission = keyof typeof PERMISSION_DESCRIPTIONS;

/** Who is asking: the master key, or a user (through an admin-scope key or a session). */
export type Actor = { kind: 'master' } | { kind: 'user'; user: User };

/**
 * A place a user holds a role: the org-wide role (`User.role`) or a role in one team. Team-level
 * `member` and `viewer` differ from their org-level namesakes, so the matrix has a row for each.
 */
export const SEATS = ['org_owner', 'org_admin', 'org_member', 'org_viewer', 'team_admin', 'team_member', 'team_viewer'] as const;
export type Seat = (typeof SEATS)[number];
type OrgSeat = Extract<Seat, `org_${string}`>;
type TeamSeat = Extract<Seat, `team_${string}`>;

/**
 * How far a grant reaches. `org`: anything in the holder's org (org seats only). `team`: anything
 * in the seat's team (team seats only). `own`: things the holder owns (`ownerUserId` is them) in
 * their org, outside any team or in a team they belong to.
 */
export type GrantScope = 'org' | 'team' | 'own';

export type PermissionRow = { readonly [S in OrgSeat]?: 'org' | 'own' } & { readonly [S in TeamSeat]?: 'team' | 'own' };

const ADMIN = { org_owner: 'org', org_admin: 'org' } as const;
const OWNER = { org_owner: 'org' } as const;
const OWN_KEYS = { org_member: 'own', team_admin: 'own', team_member: 'own' } as const;
const ORG_READERS = { ...ADMIN, org_viewer: 'org' } as const;

/**
 * The permission matrix: for each permission, the seats that hold it and how far. The master key
 * holds everything everywhere (it acts as org_owner of every org) and has no row.
 */
export const PERMISSION_MATRIX: { readonly [P in Permission]: PermissionRow } = {
  'org.read': { ...ORG_READERS, org_member: 'org' },
  'org.manage': OWNER,
  'org.admins.manage': OWNER,
  'team.create': ADMIN,
  'team.read': { ...ORG_READERS, team_admin: 'team', team_member: 'team', team_viewer: 'team' },
  'team.manage': { ...ADMIN, team_admin: 'team' },
  'user.read': { ...ORG_READERS, team_admin: 'team', team_viewer: 'team', org_member: 'own', team_member: 'own' },
  'user.manage': { ...ADMIN, team_admin: 'team' },
  'key.create.own': { ...OWN_KEYS, org_owner: 'own', org_admin: 'own' },
  'key.read.own': { ...OWN_KEYS, org_owner: 'own', org_admin: 'own', org_viewer: 'own', team_viewer: 'own' },
  'key.manage.own': { ...OWN_KEYS, org_owner: 'own', org_admin: 'own' },
  'key.read.team': { ...ORG_READERS, team_admin: 'team', team_viewer: 'team' },
  'key.manage.team': { ...ADMIN, team_admin: 'team' },
  'key.read.any': ORG_READERS,
  'key.manage.any': ADMIN,
  'budget.read': { ...ORG_READERS, team_admin: 'team', team_viewer: 'team', org_member: 'own', team_member: 'own' },
  'budget.manage': { ...ADMIN, team_admin: 'team' },
  'usage.read.own': { org_owner: 'own', org_admin: 'own', org_member: 'own', org_viewer: 'own', team_admin: 'own', team_member: 'own', team_viewer: 'own' },
  'usage.read.team': { ...ORG_READERS, team_admin: 'team', team_viewer: 'team' },
  'usage.read.org': ORG_READERS,
  'audit.read': ORG_READERS,
  'config.read': ORG_READERS,
};

/** What the action is applied to, read from the store (never from the request). */
export interface PermissionTarget {
  orgId?: string;
  /** The team the object belongs to (a team, a team key, a team member, a team's budget). */
  teamId?: string;
  /** The user who owns the object (their key, their usage, their own record). */
  ownerUserId?: string;
}

const ORG_SEAT: Readonly<Record<OrgRole, OrgSeat>> = {
  org_owner: 'org_owner',
  org_admin: 'org_admin',
  member: 'org_member',
  viewer: 'org_viewer',
};
const TEAM_SEAT: Readonly<Record<TeamRole, TeamSeat>> = {
  team_admin: 'team_admin',
  member: 'team_member',
  viewer: 'team_viewer',
};

/**
 * May the actor perform `permission` on `target`? The master key may do anything. A user may act
 * only on targets in their own org (`target.orgId` must be theirs: a target without an org is the
 * master key's alone) and only where one of their seats — the org role, or a role in the target's
 * team — grants the permission with enough reach.
 */
export function can(actor: Actor, permission: Permission, target: PermissionTarget): boolean {
  if (actor.kind === 'master') return true;
  const { user } = actor;
  if (target.orgId === undefined || target.orgId !== user.orgId) return false;
  const row = PERMISSION_MATRIX[permission];
  const owns = target.ownerUserId !== undefined && target.ownerUserId === user.id && (target.teamId === undefined || isMember(user, target.teamId));

  const orgScope = row[ORG_SEAT[user.role]];
  if (orgScope === 'org' || (orgScope === 'own' && owns)) return true;

  for (const membership of user.teams) {
    const teamScope = row[TEAM_SEAT[membership.role]];
    if (teamScope === 'own' && owns) return true;
    if (teamScope === 'team' && target.teamId === membership.teamId) return true;
  }
  return false;
}

/** True when any of the permissions is granted (e.g. `key.manage.any`, `.team` or `.own` for one key). */
export function canAny(actor: Actor, permissions: readonly Permission[], target: PermissionTarget): boolean {
  return permissions.some((p) => can(actor, p, target));
}

/**
 * The permission a change of a user's org role needs: touching an owner or admin, or making someone
 * one, is `org.admins.manage` (org_owner only); anything else is `user.manage`.
 */
export function permissionForUserChange(currentRole: OrgRole | undefined, nextRole: OrgRole | undefined): Permission {
  const elevated = (role: OrgRole | undefined): boolean => role === 'org_owner' || role === 'org_admin';
  return elevated(currentRole) || elevated(nextRole) ? 'org.admins.manage' : 'user.manage';
}

/** The audit-log `actor` string for an actor: `master` or `user:<id>`. */
export function actorLabel(actor: Actor): string {
  return actor.kind === 'master' ? 'master' : `user:${actor.user.id}`;
}

function isMember(user: User, teamId: string): boolean {
  return user.teams.some((t) => t.teamId === teamId);
}

const SCOPE_LABEL: Readonly<Record<GrantScope, string>> = { org: 'org', team: 'team', own: 'own' };

/** The matrix as a markdown table (permissions × seats), for docs/governance.md. */
export function describeMatrix(): string {
  const header = `| Permission | What | master | ${SEATS.join(' | ')} |`;
  const rule = `|${' --- |'.repeat(SEATS.length + 3)}`;
  const rows = PERMISSIONS.map((p) => {
    const row: Partial<Record<Seat, GrantScope>> = PERMISSION_MATRIX[p];
    const cells = SEATS.map((s) => {
      const scope = row[s];
      return scope ? SCOPE_LABEL[scope] : '—';
    });
    return `| \`${p}\` | ${PERMISSION_DESCRIPTIONS[p]} | all | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}
