// Declarative governance: the `teams:` and `keys:` sections of the configuration file, applied to the
// store at start and on every reload through the same GovernanceService calls the admin API makes
// (actor `config`), so that they are permission-free but audited and mirrored into the directory.
//
// Rules:
// - a declared team is matched by name in the org; an existing team of that name is adopted;
// - a declared key is matched by name among declared keys; its secret is stored as a hash, and a
//   changed secret replaces the hash (the old secret stops working at once);
// - a declared budget has a stable id (`bud_cfg_team_<team id>`, `bud_cfg_key_<key id>`), so the
//   config owns exactly that budget and leaves budgets made through the admin API alone;
// - removed from the file: a key is revoked; a team is un-declared (kept, with its budgets, members
//   and any keys made through the admin API, and managed through the API from then on);
// - a declared key revoked through the admin API stays revoked until its secret changes in the file;
// - admin-scope declared keys act as a service user created for them (`<name>@declared-keys.switchyard.invalid`):
//   org_admin without a team, team_admin of their team with one;
// - nothing differs → nothing is written and no audit entry appears.
import { z } from 'zod';
import { budgetDeclSchema, keyDeclSchema, limitsDeclSchema, teamDeclSchema } from '../config/governance-schema.ts';
import { isValidTimeZone } from './periods.ts';
import { hashSecret } from './principal.ts';
import { DECLARED_BUDGET_PREFIX, DEFAULT_ALERT_THRESHOLDS, normalizeLimits, normalizePolicy, type GovernanceService } from './service.ts';
import type { AccessPolicy, ApiKey, Budget, BudgetScope, KeyScope, Org, RateLimits, Team, User } from './types.ts';

export const declaredGovernanceSchema = z.object({
  teams: z.array(teamDeclSchema).default(() => []),
  keys: z.array(keyDeclSchema).default(() => []),
});

/** The `teams:` and `keys:` sections as written (defaults such as `hard: true` may be left out). */
export type DeclaredGovernance = z.input<typeof declaredGovernanceSchema>;
type ParsedDeclared = z.output<typeof declaredGovernanceSchema>;
type DeclaredBudget = z.output<typeof budgetDeclSchema>;
type DeclaredLimits = z.output<typeof limitsDeclSchema>;

export interface ReconcileReport {
  /** `team research`, `key ci-bot`, `budget bud_cfg_…`, `user …`. */
  created: string[];
  updated: string[];
  revoked: string[];
  /** Teams removed from the file: kept, now managed through the admin API. */
  undeclared: string[];
  deleted: string[];
  /** Things left as they are that the operator should know about. */
  warnings: string[];
}

export interface ReconcileOptions {
  /** Default: the default org (created if the store has none). */
  orgId?: string;
  /**
   * The org's time zone as the file declares it (`governance.timezone`): set on the org when it
   * differs, like any declared field. Absent = the org's time zone is left alone.
   */
  timezone?: string;
}

export const SERVICE_USER_DOMAIN = 'declared-keys.switchyard.invalid';

/** Thrown before any change when the declaration is inconsistent (duplicates, unknown teams). */
export class DeclarationError extends Error {
  override readonly name = 'DeclarationError';
}

/**
 * Brings the store in line with the declared teams and keys. Validates everything first, so an
 * invalid declaration changes nothing. Idempotent: a second run with the same input writes nothing.
 */
export async function reconcileDeclared(
  service: GovernanceService,
  declared: DeclaredGovernance,
  actor: 'config' = 'config',
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const parsed = declaredGovernanceSchema.safeParse(declared);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DeclarationError(`invalid declaration at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (options.timezone !== undefined && !isValidTimeZone(options.timezone)) throw new DeclarationError(`unknown time zone "${options.timezone}"`);
  const found = options.orgId === undefined ? await service.ensureDefaultOrg({ timezone: options.timezone }) : await service.getOrg(actor, options.orgId);
  const run = new Reconciliation(service, actor, found);
  await run.validate(parsed.data);
  if (options.timezone !== undefined && options.timezone !== found.timezone) {
    await service.updateOrg(actor, found.id, { timezone: options.timezone });
    run.report.updated.push(`org ${found.id}`);
  }
  await run.apply(parsed.data);
  return run.report;
}

class Reconciliation {
  readonly report: ReconcileReport = { created: [], updated: [], revoked: [], undeclared: [], deleted: [], warnings: [] };
  private readonly store;

  constructor(
    private readonly service: GovernanceService,
    private readonly actor: 'config',
    private readonly org: Org,
  ) {
    this.store = service.store;
  }

  async validate(declared: ParsedDeclared): Promise<void> {
    const teamNames = new Set<string>();
    for (const team of declared.teams) {
      if (teamNames.has(team.name)) throw new DeclarationError(`team "${team.name}" is declared twice`);
      teamNames.add(team.name);
    }
    const keyNames = new Set<string>();
    const secrets = new Set<string>();
    for (const key of declared.keys) {
      if (keyNames.has(key.name)) throw new DeclarationError(`key "${key.name}" is declared twice`);
      keyNames.add(key.name);
      if (secrets.has(key.key)) throw new DeclarationError(`key "${key.name}" has the same secret as another declared key`);
      secrets.add(key.key);
      if (key.team !== undefined && !teamNames.has(key.team) && !(await this.store.findTeamByName(this.org.id, key.team))) {
        throw new DeclarationError(`key "${key.name}" names team "${key.team}", which is neither declared nor present in org ${this.org.id}`);
      }
    }
  }

  async apply(declared: ParsedDeclared): Promise<void> {
    const teams = new Map<string, Team>();
    for (const decl of declared.teams) teams.set(decl.name, await this.team(decl.name, models(decl.models), limits(decl.limits), decl.budget));

    const existing = (await this.store.listKeys({ orgId: this.org.id, includeRevoked: true })).filter((k) => k.declared);
    const kept = new Set<string>();
    for (const decl of declared.keys) {
      const team = decl.team === undefined ? undefined : (teams.get(decl.team) ?? (await this.store.findTeamByName(this.org.id, decl.team)));
      await this.key(decl.name, decl.key, decl.scope, team, models(decl.models), limits(decl.limits), decl.budget, existing);
      kept.add(decl.name);
    }

    // Removed from the file.
    const now = this.service.now();
    for (const key of existing) {
      if (kept.has(key.name)) continue;
      if (key.revokedAt === undefined || key.revokedAt > now) {
        await this.service.revokeKey(this.actor, key.id);
        this.report.revoked.push(`key ${key.name}`);
      }
      if (key.userId !== undefined && key.scope === 'admin') await this.dropServiceUser(key.name);
    }
    for (const team of await this.store.listTeams(this.org.id)) {
      if (!team.declared || teams.has(team.name)) continue;
      await this.service.updateTeam(this.actor, team.id, { declared: false });
      this.report.undeclared.push(`team ${team.name}`);
    }
  }

  private async team(name: string, policy: AccessPolicy | undefined, rateLimits: RateLimits | undefined, budget: DeclaredBudget | undefined): Promise<Team> {
    const found = await this.store.findTeamByName(this.org.id, name);
    let team: Team;
    if (!found) {
      team = await this.service.createTeam(this.actor, { orgId: this.org.id, name, policy, limits: rateLimits, declared: true });
      this.report.created.push(`team ${name}`);
    } else {
      team = await this.service.updateTeam(this.actor, found.id, { policy: policy ?? null, limits: rateLimits ?? null, declared: true });
      if (changed(found, team)) this.report.updated.push(`team ${name}`);
    }
    await this.budget('team', team.id, budget);
    return team;
  }

  private async key(
    name: string,
    secret: string,
    scope: KeyScope,
    team: Team | undefined,
    policy: AccessPolicy | undefined,
    rateLimits: RateLimits | undefined,
    budget: DeclaredBudget | undefined,
    existing: readonly ApiKey[],
  ): Promise<void> {
    const hash = hashSecret(secret);
    const owner = scope === 'admin' ? await this.serviceUser(name, team) : undefined;
    const current = newest(existing.filter((k) => k.name === name));
    const now = this.service.now();
    const revoked = current !== undefined && current.revokedAt !== undefined && current.revokedAt <= now;

    if (current && !revoked) {
      const updated = await this.service.updateKey(this.actor, current.id, {
        teamId: team?.id ?? null,
        userId: owner?.id ?? null,
        scope,
        policy: policy ?? null,
        limits: rateLimits ?? null,
        ...(current.hash !== hash && { secret }),
      });
      if (changed(current, updated)) this.report.updated.push(`key ${name}`);
      // After the key has let go of it: deleting a user revokes the user's keys.
      if (!owner) await this.dropServiceUser(name);
      await this.budget('key', updated.id, budget);
      return;
    }
    if (current && revoked && current.hash === hash) {
      this.report.warnings.push(`key "${name}" was revoked through the admin API and stays revoked; give it a new secret in the configuration to issue it again`);
      return;
    }
    const clash = await this.store.findKeyByHash(hash);
    if (clash) {
      this.report.warnings.push(`key "${name}" was not created: its secret is already the secret of key ${clash.id} ("${clash.name}")`);
      return;
    }
    const { key } = await this.service.createKey(this.actor, {
      orgId: this.org.id,
      name,
      kind: 'service',
      scope,
      ...(team && { teamId: team.id }),
      ...(owner && { userId: owner.id }),
      policy,
      limits: rateLimits,
      secret,
      declared: true,
    });
    this.report.created.push(`key ${name}`);
    await this.budget('key', key.id, budget);
  }

  /** The budget the file declares for a team or key: created, updated or deleted to match. */
  private async budget(scope: Extract<BudgetScope, 'team' | 'key'>, scopeId: string, decl: DeclaredBudget | undefined): Promise<void> {
    const id = `${DECLARED_BUDGET_PREFIX}${scope}_${scopeId}`;
    const found: Budget | undefined = await this.store.getBudget(id);
    if (!decl) {
      if (found) {
        await this.service.deleteBudget(this.actor, id);
        this.report.deleted.push(`budget ${id}`);
      }
      return;
    }
    const spec = {
      maxUsd: decl.max_usd,
      period: decl.period,
      hard: decl.hard,
      alertThresholds: decl.alert_thresholds ?? [...DEFAULT_ALERT_THRESHOLDS],
    };
    if (!found) {
      await this.service.createBudget(this.actor, { id, orgId: this.org.id, scope, scopeId, ...spec });
      this.report.created.push(`budget ${id}`);
      return;
    }
    const updated = await this.service.updateBudget(this.actor, id, spec);
    if (changed(found, updated)) this.report.updated.push(`budget ${id}`);
  }

  /** The user an admin-scope declared key acts as. */
  private async serviceUser(keyName: string, team: Team | undefined): Promise<User> {
    const email = `${keyName}@${SERVICE_USER_DOMAIN}`;
    const role = team ? 'member' : 'org_admin';
    const teams = team ? [{ teamId: team.id, role: 'team_admin' as const }] : [];
    const found = await this.store.findUserByEmail(this.org.id, email);
    if (!found) {
      const user = await this.service.createUser(this.actor, { orgId: this.org.id, email, name: `declared key ${keyName}`, role, teams });
      this.report.created.push(`user ${email}`);
      return user;
    }
    const user = await this.service.updateUser(this.actor, found.id, { role, teams });
    if (changed(found, user)) this.report.updated.push(`user ${email}`);
    return user;
  }

  private async dropServiceUser(keyName: string): Promise<void> {
    const email = `${keyName}@${SERVICE_USER_DOMAIN}`;
    const user = await this.store.findUserByEmail(this.org.id, email);
    if (!user) return;
    await this.service.deleteUser(this.actor, user.id);
    this.report.deleted.push(`user ${email}`);
  }
}

function models(list: string[] | undefined): AccessPolicy | undefined {
  return normalizePolicy(list ? { allowModels: list } : undefined);
}

function limits(decl: DeclaredLimits | undefined): RateLimits | undefined {
  return normalizeLimits(decl && { rpm: decl.rpm, tpm: decl.tpm, maxConcurrency: decl.max_concurrency });
}

/** The service returns the object it loaded when nothing changed, and a new one otherwise. */
function changed<T>(before: T, after: T): boolean {
  return JSON.stringify(before) !== JSON.stringify(after);
}

function newest(keys: readonly ApiKey[]): ApiKey | undefined {
  let best: ApiKey | undefined;
  for (const key of keys) if (!best || key.createdAt > best.createdAt || (key.createdAt === best.createdAt && key.id > best.id)) best = key;
  return best;
}
