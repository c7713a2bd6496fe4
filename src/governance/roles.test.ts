import { describe, expect, it } from 'vitest';
import {
  actorLabel,
  can,
  canAny,
  describeMatrix,
  PERMISSION_MATRIX,
  PERMISSIONS,
  permissionForUserChange,
  SEATS,
  type Actor,
  type GrantScope,
  type Permission,
  type PermissionTarget,
  type Seat,
} from './roles.ts';
import type { OrgRole, TeamRole, User } from './types.ts';

// The specification, written independently of PERMISSION_MATRIX: O = whole org, T = the seat's team,
// o = own things only, - = nothing. Columns follow SEATS:
//                          org_owner org_admin org_member org_viewer team_admin team_member team_viewer
const SPEC: Record<Permission, string> = {
  'org.read': '         O O O O - - -',
  'org.manage': '       O - - - - - -',
  'org.admins.manage': 'O - - - - - -',
  'team.create': '      O O - - - - -',
  'team.read': '        O O - O T T T',
  'team.manage': '      O O - - T - -',
  'user.read': '        O O o O T o T',
  'user.manage': '      O O - - T - -',
  'key.create.own': '   o o o - o o -',
  'key.read.own': '     o o o o o o o',
  'key.manage.own': '   o o o - o o -',
  'key.read.team': '    O O - O T - T',
  'key.manage.team': '  O O - - T - -',
  'key.read.any': '     O O - O - - -',
  'key.manage.any': '   O O - - - - -',
  'budget.read': '      O O o O T o T',
  'budget.manage': '    O O - - T - -',
  'usage.read.own': '   o o o o o o o',
  'usage.read.team': '  O O - O T - T',
  'usage.read.org': '   O O - O - - -',
  'audit.read': '       O O - O - - -',
  'config.read': '      O O - O - - -',
};

function specScope(permission: Permission, seat: Seat): GrantScope | undefined {
  const cell = SPEC[permission].trim().split(/\s+/)[SEATS.indexOf(seat)];
  return cell === 'O' ? 'org' : cell === 'T' ? 'team' : cell === 'o' ? 'own' : undefined;
}

const ORG = 'org_1';
const TEAM = 'team_1';
const OTHER_TEAM = 'team_2';
const ME = 'user_me';

function user(role: OrgRole, teams: Array<{ teamId: string; role: TeamRole }> = []): User {
  return { id: ME, orgId: ORG, email: 'me@example.com', role, teams, createdAt: 0 };
}

const TARGETS = {
  org: { orgId: ORG },
  team: { orgId: ORG, teamId: TEAM },
  otherTeam: { orgId: ORG, teamId: OTHER_TEAM },
  own: { orgId: ORG, ownerUserId: ME },
  ownInTeam: { orgId: ORG, teamId: TEAM, ownerUserId: ME },
  ownInOtherTeam: { orgId: ORG, teamId: OTHER_TEAM, ownerUserId: ME },
  someoneElses: { orgId: ORG, ownerUserId: 'user_other' },
  someoneElsesInTeam: { orgId: ORG, teamId: TEAM, ownerUserId: 'user_other' },
  otherOrg: { orgId: 'org_2' },
  otherOrgOwn: { orgId: 'org_2', ownerUserId: ME },
  noOrg: {},
} satisfies Record<string, PermissionTarget>;
type TargetName = keyof typeof TARGETS;

/** What a grant of `scope` from a seat in TEAM admits (the user belongs to TEAM only). */
function admits(scope: GrantScope | undefined, target: TargetName): boolean {
  switch (scope) {
    case 'org':
      return !['otherOrg', 'otherOrgOwn', 'noOrg'].includes(target);
    case 'team':
      return ['team', 'ownInTeam', 'someoneElsesInTeam'].includes(target);
    case 'own':
      return ['own', 'ownInTeam'].includes(target);
    default:
      return false;
  }
}

const ORG_SEATS: Array<[Seat, OrgRole]> = [
  ['org_owner', 'org_owner'],
  ['org_admin', 'org_admin'],
  ['org_member', 'member'],
  ['org_viewer', 'viewer'],
];
const TEAM_SEATS: Array<[Seat, TeamRole]> = [
  ['team_admin', 'team_admin'],
  ['team_member', 'member'],
  ['team_viewer', 'viewer'],
];

describe('permission matrix', () => {
  it('is exactly the specification', () => {
    for (const permission of PERMISSIONS) {
      const row: Partial<Record<Seat, GrantScope>> = PERMISSION_MATRIX[permission];
      for (const seat of SEATS) expect([permission, seat, row[seat]]).toEqual([permission, seat, specScope(permission, seat)]);
    }
    expect(Object.keys(SPEC).sort()).toEqual([...PERMISSIONS].sort());
  });

  describe.each(ORG_SEATS)('org seat %s', (seat, role) => {
    const actor: Actor = { kind: 'user', user: user(role, [{ teamId: TEAM, role: 'member' }]) };
    it.each(PERMISSIONS)('%s', (permission) => {
      for (const target of Object.keys(TARGETS) as TargetName[]) {
        // The user also sits in TEAM as a plain member; its grants add to the org seat's.
        const expected = admits(specScope(permission, seat), target) || admits(specScope(permission, 'team_member'), target);
        expect([target, can(actor, permission, TARGETS[target])]).toEqual([target, expected]);
      }
    });
  });

  describe.each(TEAM_SEATS)('team seat %s (org role viewer)', (seat, role) => {
    const actor: Actor = { kind: 'user', user: user('viewer', [{ teamId: TEAM, role }]) };
    it.each(PERMISSIONS)('%s', (permission) => {
      for (const target of Object.keys(TARGETS) as TargetName[]) {
        const expected = admits(specScope(permission, 'org_viewer'), target) || admits(specScope(permission, seat), target);
        expect([target, can(actor, permission, TARGETS[target])]).toEqual([target, expected]);
      }
    });
  });

  it('lets the master key do everything, even on targets without an org', () => {
    const master: Actor = { kind: 'master' };
    for (const permission of PERMISSIONS) for (const target of Object.values(TARGETS)) expect(can(master, permission, target)).toBe(true);
  });
});

describe('can: the rules in words', () => {
  const admin: Actor = { kind: 'user', user: user('org_admin') };
  const owner: Actor = { kind: 'user', user: user('org_owner') };
  const teamAdmin: Actor = { kind: 'user', user: user('member', [{ teamId: TEAM, role: 'team_admin' }]) };
  const member: Actor = { kind: 'user', user: user('member') };
  const viewer: Actor = { kind: 'user', user: user('viewer') };

  it('only the org owner manages org settings and admins', () => {
    expect(can(owner, 'org.manage', TARGETS.org)).toBe(true);
    expect(can(owner, 'org.admins.manage', TARGETS.org)).toBe(true);
    expect(can(admin, 'org.manage', TARGETS.org)).toBe(false);
    expect(can(admin, 'org.admins.manage', TARGETS.org)).toBe(false);
    expect(can(admin, 'user.manage', TARGETS.org)).toBe(true);
    expect(permissionForUserChange('member', 'org_admin')).toBe('org.admins.manage');
    expect(permissionForUserChange('org_admin', 'member')).toBe('org.admins.manage');
    expect(permissionForUserChange('org_owner', undefined)).toBe('org.admins.manage');
    expect(permissionForUserChange(undefined, 'viewer')).toBe('user.manage');
    expect(permissionForUserChange('member', 'viewer')).toBe('user.manage');
  });

  it('a team admin manages their team, its keys, budgets and members — not other teams or the org', () => {
    for (const p of ['team.manage', 'key.manage.team', 'budget.manage', 'user.manage', 'usage.read.team'] as const) {
      expect(can(teamAdmin, p, TARGETS.team)).toBe(true);
      expect(can(teamAdmin, p, TARGETS.otherTeam)).toBe(false);
      expect(can(teamAdmin, p, TARGETS.org)).toBe(false);
    }
    expect(can(teamAdmin, 'team.create', TARGETS.org)).toBe(false);
    expect(can(teamAdmin, 'key.manage.any', TARGETS.team)).toBe(false);
    // A team's key owned by someone else is still the team admin's to manage.
    expect(can(teamAdmin, 'key.manage.team', TARGETS.someoneElsesInTeam)).toBe(true);
  });

  it('a member manages their own keys and reads their own usage, nothing of others', () => {
    expect(can(member, 'key.create.own', TARGETS.own)).toBe(true);
    expect(can(member, 'key.manage.own', TARGETS.own)).toBe(true);
    expect(can(member, 'usage.read.own', TARGETS.own)).toBe(true);
    expect(can(member, 'key.manage.own', TARGETS.someoneElses)).toBe(false);
    expect(can(member, 'usage.read.own', TARGETS.someoneElses)).toBe(false);
    expect(can(member, 'usage.read.org', TARGETS.org)).toBe(false);
    // Not in that team: a key of theirs there would draw on a budget that is not theirs.
    expect(can(member, 'key.create.own', TARGETS.ownInOtherTeam)).toBe(false);
  });

  it('a viewer reads and never writes', () => {
    const writes = PERMISSIONS.filter((p) => p.includes('manage') || p.includes('create'));
    for (const p of writes) for (const target of Object.values(TARGETS)) expect(can(viewer, p, target)).toBe(false);
    expect(can(viewer, 'usage.read.org', TARGETS.org)).toBe(true);
    expect(can(viewer, 'audit.read', TARGETS.org)).toBe(true);
  });

  it('nobody but the master key crosses orgs', () => {
    for (const p of PERMISSIONS) {
      expect(can(owner, p, TARGETS.otherOrg)).toBe(false);
      expect(can(owner, p, TARGETS.otherOrgOwn)).toBe(false);
      expect(can(owner, p, TARGETS.noOrg)).toBe(false);
    }
  });

  it('canAny tries each permission', () => {
    const key = TARGETS.someoneElsesInTeam;
    const anyKeyManage = ['key.manage.any', 'key.manage.team', 'key.manage.own'] as const;
    expect(canAny(teamAdmin, anyKeyManage, key)).toBe(true);
    expect(canAny(member, anyKeyManage, key)).toBe(false);
  });

  it('labels actors for the audit log', () => {
    expect(actorLabel({ kind: 'master' })).toBe('master');
    expect(actorLabel(member)).toBe('user:user_me');
  });
});

describe('describeMatrix', () => {
  it('renders one markdown row per permission and a column per seat', () => {
    const lines = describeMatrix().split('\n');
    expect(lines[0]).toBe('| Permission | What | master | org_owner | org_admin | org_member | org_viewer | team_admin | team_member | team_viewer |');
    expect(lines).toHaveLength(PERMISSIONS.length + 2);
    expect(lines.find((l) => l.startsWith('| `org.manage`'))).toMatch(/\| all \| org \| — \| — \| — \| — \| — \| — \|$/);
    expect(lines.find((l) => l.startsWith('| `team.manage`'))).toMatch(/\| all \| org \| org \| — \| — \| team \| — \| — \|$/);
  });
});
