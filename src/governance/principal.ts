// Who is calling: the master key, or a virtual key with everything that applies to it (its org,
// team and user, the effective access policy, the budgets and the rate limits). Resolved from the
// in-memory directory, never from the database, and cached per key until the directory changes.
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../core/errors.ts';
import type { GovernanceDirectory } from './directory.ts';
import { effectivePolicy, UNRESTRICTED, type EffectivePolicy } from './policy.ts';
import type { LimitSubject } from './rate-limits.ts';
import type { Actor } from './roles.ts';
import type { ApiKey, Budget, Org, StrategyName, Team, User } from './types.ts';

export interface MasterPrincipal {
  kind: 'master';
  actor: Actor;
  policy: EffectivePolicy;
}

export interface KeyPrincipal {
  kind: 'key';
  key: ApiKey;
  org: Org;
  team?: Team;
  user?: User;
  policy: EffectivePolicy;
  /** Key, user, team and org budgets. */
  budgets: readonly Budget[];
  limits: readonly LimitSubject[];
  defaultStrategy?: StrategyName;
  timezone: string;
  /** Admin-scope keys act on the admin API with their user's role; inference keys cannot. */
  actor?: Actor;
}

export type Principal = MasterPrincipal | KeyPrincipal;

export const MASTER_PRINCIPAL: MasterPrincipal = Object.freeze({ kind: 'master' as const, actor: { kind: 'master' as const }, policy: UNRESTRICTED });

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function buildPrincipal(directory: GovernanceDirectory, key: ApiKey): KeyPrincipal {
  const org = directory.orgs.get(key.orgId);
  if (!org) throw new GatewayError('auth', 'this API key belongs to an organisation that no longer exists', { code: 'invalid_api_key' });
  const team = key.teamId ? directory.teams.get(key.teamId) : undefined;
  const user = key.userId ? directory.users.get(key.userId) : undefined;
  const budgets: Budget[] = [...directory.budgetsFor('key', key.id)];
  if (user) budgets.push(...directory.budgetsFor('user', user.id));
  if (team) budgets.push(...directory.budgetsFor('team', team.id));
  budgets.push(...directory.budgetsFor('org', org.id));
  const limits: LimitSubject[] = [{ scope: 'key', id: key.id, limits: key.limits }];
  if (user?.limits) limits.push({ scope: 'user', id: user.id, limits: user.limits });
  if (team?.limits) limits.push({ scope: 'team', id: team.id, limits: team.limits });
  const principal: KeyPrincipal = {
    kind: 'key',
    key,
    org,
    policy: effectivePolicy([org.policy, team?.policy, key.policy]),
    budgets,
    limits,
    timezone: org.timezone,
  };
  if (team) principal.team = team;
  if (user) principal.user = user;
  const strategy = key.defaultStrategy ?? team?.defaultStrategy;
  if (strategy) principal.defaultStrategy = strategy;
  if (key.scope === 'admin' && user) principal.actor = { kind: 'user', user };
  return principal;
}

/** Valid secrets remembered, so a key is hashed once, not on every request; cleared when full. */
const SECRET_CACHE_SIZE = 10_000;

/** Resolves presented secrets to principals, with a per-key cache invalidated by directory changes. */
export class PrincipalResolver {
  private readonly masterHash: Buffer | undefined;
  private cache = new Map<string, KeyPrincipal>();
  /** Secret → what it resolved to; only secrets that resolved are kept, so junk cannot fill it. */
  private bySecret = new Map<string, Principal>();
  private cachedVersion = -1;

  constructor(
    private readonly directory: GovernanceDirectory,
    masterKey: string | undefined,
  ) {
    this.masterHash = masterKey ? createHash('sha256').update(masterKey).digest() : undefined;
  }

  resolve(secret: string | undefined, now: number): Principal {
    if (!secret) throw new GatewayError('auth', 'missing API key: send "Authorization: Bearer <key>"', { code: 'missing_api_key' });
    if (this.cachedVersion !== this.directory.version) {
      this.cache = new Map();
      this.bySecret = new Map();
      this.cachedVersion = this.directory.version;
    }
    const known = this.bySecret.get(secret);
    if (known) {
      if (known.kind === 'key') assertActive(known.key, now);
      return known;
    }
    const digest = createHash('sha256').update(secret).digest();
    if (this.masterHash && timingSafeEqual(digest, this.masterHash)) {
      this.remember(secret, MASTER_PRINCIPAL);
      return MASTER_PRINCIPAL;
    }
    const hash = digest.toString('hex');
    const key = this.directory.keyByHash(hash);
    // The hash lookup finds the candidate; the final comparison is constant-time all the same.
    if (!key || !timingSafeEqual(Buffer.from(key.hash, 'hex'), digest)) throw new GatewayError('auth', 'invalid API key', { code: 'invalid_api_key' });
    assertActive(key, now);
    let principal = this.cache.get(key.id);
    if (!principal) {
      principal = buildPrincipal(this.directory, key);
      this.cache.set(key.id, principal);
    }
    this.remember(secret, principal);
    return principal;
  }

  private remember(secret: string, principal: Principal): void {
    if (this.bySecret.size >= SECRET_CACHE_SIZE) this.bySecret = new Map();
    this.bySecret.set(secret, principal);
  }
}

/** Revocation, expiry and the end of a rotation overlap take effect at their instant, cached or not. */
function assertActive(key: ApiKey, now: number): void {
  if (key.revokedAt !== undefined && key.revokedAt <= now) throw new GatewayError('auth', 'this API key has been revoked', { code: 'revoked_api_key' });
  if (key.expiresAt !== undefined && key.expiresAt <= now) throw new GatewayError('auth', 'this API key has expired', { code: 'expired_api_key' });
  if (key.overlapUntil !== undefined && key.overlapUntil <= now) {
    throw new GatewayError('auth', 'this API key was rotated and its overlap window has ended; use the new key', { code: 'rotated_api_key' });
  }
}
