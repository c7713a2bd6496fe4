// Who is signed in: the admin key lives in this tab's sessionStorage only (gone when the tab closes,
// never in a cookie or localStorage); the caller's identity and grants come from GET /admin/v1/me.

const STORAGE_KEY = 'switchyard.adminKey';

/**
 * @typedef {{ permission: string, reach: 'all' | 'org' | 'team' | 'own', team_id: string | null }} Grant
 * @typedef {{ id: string, org_id: string, email: string, name: string | null, role: string,
 *   teams: { team_id: string, role: string }[] }} MeUser
 * @typedef {{ kind: 'master' | 'user', user: MeUser | null, key_id: string | null, grants: Grant[] }} Me
 * @typedef {{ teamId?: string | null, ownerUserId?: string | null }} Target
 */

export function getKey() {
  return sessionStorage.getItem(STORAGE_KEY);
}

/** @param {string} key */
export function setKey(key) {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function clearKey() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** @type {Me | null} */
let current = null;

/** @param {Me | null} me */
export function setMe(me) {
  current = me;
}

export function me() {
  if (!current) throw new Error('not signed in');
  return current;
}

/** A short description of the caller for the sidebar. */
export function identity() {
  const m = me();
  if (m.kind === 'master') return { name: 'Master key', role: 'all permissions' };
  const user = /** @type {MeUser} */ (m.user);
  const teamRoles = user.teams.map((t) => t.role).filter((r) => r === 'team_admin');
  return { name: user.name ?? user.email, role: [user.role.replace('_', ' '), ...(teamRoles.length ? ['team admin'] : [])].join(' · ') };
}

/**
 * Mirrors the server's check for the UI's sake (hide or disable what would be refused); the admin
 * API checks every call anyway.
 * @param {string} permission
 * @param {Target} [target] omitted: "anywhere at all"
 */
export function can(permission, target) {
  const m = me();
  const userId = m.user?.id ?? null;
  return m.grants.some((g) => {
    if (g.permission !== permission) return false;
    if (!target || g.reach === 'all' || g.reach === 'org') return true;
    if (g.reach === 'team') return !!target.teamId && target.teamId === g.team_id;
    return !!target.ownerUserId && target.ownerUserId === userId;
  });
}

/**
 * @param {string[]} permissions
 * @param {Target} [target]
 */
export function canAny(permissions, target) {
  return permissions.some((p) => can(p, target));
}

export const KEY_MANAGE = ['key.manage.any', 'key.manage.team', 'key.manage.own'];
export const KEY_CREATE = ['key.create.own', 'key.manage.team', 'key.manage.any'];
export const KEY_READ = ['key.read.any', 'key.read.team', 'key.read.own'];
export const USAGE_READ = ['usage.read.org', 'usage.read.team', 'usage.read.own'];
