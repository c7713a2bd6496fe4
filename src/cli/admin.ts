// `switchyard orgs|teams|users|keys|budgets|audit …`: governance administration from the shell. Every
// command is one admin API request, sent either over HTTP to a running gateway (`--url`, `--key`) or,
// with `--store`, straight to the governance store through the same AdminApi route table and
// GovernanceService (acting as the master key) — so both modes validate and authorise identically.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { AdminApi } from '../admin/api.ts';
import { GatewayError } from '../core/errors.ts';
import { InMemoryCounters } from '../governance/counters.ts';
import { GovernanceDirectory } from '../governance/directory.ts';
import { PrincipalResolver } from '../governance/principal.ts';
import { GovernanceService, MASTER_ACTOR } from '../governance/service.ts';
import type { GovernanceStore } from '../governance/types.ts';
import { openPostgresGovernanceStore, openSqliteGovernanceStore } from '../store/governance/open.ts';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:4000';

export interface AdminCliIO {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: Readonly<Record<string, string | undefined>>;
  /** Receives the exit code of a failed command (default: sets `process.exitCode`). */
  fail?: (code: number) => void;
}

interface ConnectionOptions {
  url?: string;
  key?: string;
  store?: string;
  json?: boolean;
}

type Query = Record<string, string | undefined>;

/** One admin API request, whichever way it travels. */
interface AdminClient {
  readonly direct: boolean;
  request(method: string, path: string, query?: Query, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

class CliError extends Error {
  override readonly name = 'CliError';
}

// ---------------------------------------------------------------------------------------------------
// Transports

class HttpClient implements AdminClient {
  readonly direct = false;

  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
  ) {}

  async request(method: string, path: string, query: Query = {}, body?: unknown): Promise<unknown> {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, signal: AbortSignal.timeout(30_000), ...(body !== undefined && { body: JSON.stringify(body) }) });
    } catch (error) {
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new CliError(`cannot reach the gateway at ${this.baseUrl} (${reason}); is it running? (--url, or --store to work on the store directly)`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError(`${method} ${url.pathname}: HTTP ${res.status} with a non-JSON body: ${text.slice(0, 200)}`);
    }
    if (!res.ok) throw new CliError(describeError(res.status, parsed));
    return parsed;
  }

  async close(): Promise<void> {}
}

function describeError(status: number, body: unknown): string {
  if (isRecord(body) && isRecord(body.error)) {
    const { message, type, param } = body.error;
    const where = typeof param === 'string' ? ` (${param})` : '';
    return `${status} ${typeof type === 'string' ? type : 'error'}: ${String(message)}${where}`;
  }
  return `HTTP ${status}`;
}

class DirectClient implements AdminClient {
  readonly direct = true;

  private constructor(
    private readonly store: GovernanceStore,
    private readonly api: AdminApi,
  ) {}

  static async open(spec: string): Promise<DirectClient> {
    const store = openStore(spec);
    try {
      await store.migrate();
      const directory = await GovernanceDirectory.load(store);
      const service = new GovernanceService({ store, directory, counters: new InMemoryCounters() });
      await service.ensureDefaultOrg();
      // Loaded here, not at start-up: every CLI command (serve too) registers the admin commands.
      const { AdminApi } = await import('../admin/api.ts');
      return new DirectClient(store, new AdminApi(service, new PrincipalResolver(directory, undefined)));
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  async request(method: string, path: string, query: Query = {}, body?: unknown): Promise<unknown> {
    const defined: Record<string, string> = {};
    for (const [name, value] of Object.entries(query)) if (value !== undefined) defined[name] = value;
    try {
      return (await this.api.dispatch(MASTER_ACTOR, { method, path, query: defined, body })).body;
    } catch (error) {
      if (error instanceof GatewayError) throw new CliError(describeError(error.status, error.toOpenAI()));
      throw error;
    }
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** `sqlite:PATH` or `postgres://…` / `postgresql://…`. */
export function openStore(spec: string): GovernanceStore {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (path.length === 0) throw new CliError('--store sqlite: needs a path, e.g. sqlite:./.switchyard/switchyard.db');
    return openSqliteGovernanceStore(path);
  }
  if (spec.startsWith('postgres://') || spec.startsWith('postgresql://')) return openPostgresGovernanceStore(spec);
  throw new CliError(`--store must be sqlite:PATH or a postgres:// URL (got "${spec}")`);
}

// ---------------------------------------------------------------------------------------------------
// Option parsers

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** Repeatable and comma-separated: `--models "*-mini,gpt-4o" --models claude-*`. */
function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v.length > 0)];
}

function fractions(value: string): number[] {
  return value.split(',').map((v) => {
    const n = Number(v.trim());
    if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('expected fractions in (0, 1], e.g. 0.5,0.8,1');
    return n;
  });
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--expires 30d` (from now) or an ISO 8601 date-time. */
function expiry(value: string): string {
  const m = DURATION.exec(value);
  if (m) return new Date(Date.now() + Number(m[1]) * UNIT_MS[m[2]]).toISOString();
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgumentError('expected a duration (90d, 12h) or an ISO 8601 date-time');
  return new Date(t).toISOString();
}

const PERIODS = ['daily', 'weekly', 'monthly', 'total'];
const periodOption = () => new Option('--period <period>', 'budget period').choices(PERIODS);

interface BudgetFlags {
  budgetUsd?: number;
  period?: string;
  hard?: boolean;
  soft?: boolean;
  alerts?: number[];
}

interface LimitFlags {
  rpm?: number;
  tpm?: number;
  maxConcurrency?: number;
}

function hardness(flags: BudgetFlags): boolean | undefined {
  if (flags.hard && flags.soft) throw new CliError('give --hard or --soft, not both');
  return flags.soft ? false : flags.hard ? true : undefined;
}

function inlineBudget(flags: BudgetFlags): Record<string, unknown> | undefined {
  if (flags.budgetUsd === undefined) {
    if (flags.period !== undefined) throw new CliError('--period needs --budget-usd');
    return undefined;
  }
  if (flags.period === undefined) throw new CliError('--budget-usd needs --period daily|weekly|monthly|total');
  return compact({ max_usd: flags.budgetUsd, period: flags.period, hard: hardness(flags), alert_thresholds: flags.alerts });
}

function limits(flags: LimitFlags): Record<string, number> | undefined {
  const out = compact({ rpm: flags.rpm, tpm: flags.tpm, max_concurrency: flags.maxConcurrency });
  return Object.keys(out).length > 0 ? (out as Record<string, number>) : undefined;
}

function withBudgetFlags(cmd: Command): Command {
  return cmd
    .option('--budget-usd <usd>', 'create a budget of this many USD', positive)
    .addOption(periodOption())
    .option('--hard', 'hard budget: refuse requests beyond it (default)')
    .option('--soft', 'soft budget: only alert')
    .option('--alerts <fractions>', 'alert thresholds, e.g. 0.5,0.8,1', fractions);
}

function withLimitFlags(cmd: Command): Command {
  return cmd
    .option('--rpm <n>', 'requests per minute', positiveInt)
    .option('--tpm <n>', 'tokens per minute', positiveInt)
    .option('--max-concurrency <n>', 'requests in flight at once', positiveInt);
}

function compact(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Output

type Column = [header: string, cell: (row: Record<string, unknown>) => unknown];

const COLUMNS: Readonly<Record<string, readonly Column[]>> = {
  org: [
    ['ID', (r) => r.id],
    ['NAME', (r) => r.name],
    ['TIMEZONE', (r) => r.timezone],
    ['CREATED', (r) => r.created_at],
  ],
  team: [
    ['ID', (r) => r.id],
    ['NAME', (r) => r.name],
    ['MODELS', (r) => (isRecord(r.policy) ? r.policy.allow_models : null)],
    ['LIMITS', (r) => r.limits],
    ['DECLARED', (r) => r.declared],
  ],
  user: [
    ['ID', (r) => r.id],
    ['EMAIL', (r) => r.email],
    ['ROLE', (r) => r.role],
    ['TEAMS', (r) => (Array.isArray(r.teams) ? r.teams.map((m) => (isRecord(m) ? `${String(m.team_id)}:${String(m.role)}` : '')) : null)],
  ],
  key: [
    ['ID', (r) => r.id],
    ['NAME', (r) => r.name],
    ['PREFIX', (r) => r.prefix],
    ['STATUS', (r) => r.status],
    ['SCOPE', (r) => r.scope],
    ['TEAM', (r) => r.team_id],
    ['USER', (r) => r.user_id],
    ['MODELS', (r) => r.models],
    ['LAST USED', (r) => r.last_used_at],
  ],
  budget: [
    ['ID', (r) => r.id],
    ['SCOPE', (r) => `${String(r.scope)}:${String(r.scope_id)}`],
    ['PERIOD', (r) => r.period],
    ['HARD', (r) => r.hard],
    ['MAX USD', (r) => r.max_usd],
    ['SPENT USD', (r) => r.spent_usd],
    ['REMAINING USD', (r) => r.remaining_usd],
  ],
  audit: [
    ['TIME', (r) => r.ts],
    ['ACTOR', (r) => r.actor],
    ['ACTION', (r) => r.action],
    ['TARGET', (r) => `${String(r.target_type)}:${String(r.target_id)}`],
  ],
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cell).join(',');
  if (isRecord(value)) {
    const parts = Object.entries(value).map(([k, v]) => `${k}=${cell(v)}`);
    return parts.length === 0 ? '-' : parts.join(' ');
  }
  return String(value);
}

export function renderTable(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly Column[]): string {
  const cells = rows.map((row) => columns.map(([, get]) => cell(get(row))));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((r) => r[i].length)));
  const line = (values: readonly string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]))).join('  ');
  return [line(columns.map(([h]) => h)), ...cells.map(line)].join('\n');
}

function renderRecord(record: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  const lines: string[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (Array.isArray(value) && value.length > 0 && value.every(isRecord)) {
      lines.push(`${name}:`);
      for (const item of value) lines.push(`  - ${Object.entries(item).map(([k, v]) => `${k}=${cell(v)}`).join(' ')}`);
    } else {
      lines.push(`${name.padEnd(width)}  ${cell(value)}`);
    }
  }
  return lines.join('\n');
}

/** Readable output: a table for lists, `field value` lines for one object, the secret called out. */
function render(result: unknown, entity: string): string {
  if (isRecord(result) && result.object === 'list' && Array.isArray(result.data)) {
    const rows = result.data.filter(isRecord);
    return rows.length === 0 ? `(no ${entity}s)` : renderTable(rows, COLUMNS[entity]);
  }
  if (!isRecord(result)) return JSON.stringify(result, null, 2);
  const { key, ...rest } = result;
  const body = renderRecord(rest);
  if (entity === 'key' && typeof key === 'string') {
    return `${body}\n\nkey: ${key}\n(this secret is shown once and is not stored; keep it now)`;
  }
  return body;
}

// ---------------------------------------------------------------------------------------------------
// Commands

interface Context {
  io: Required<Omit<AdminCliIO, 'env'>> & { env: Readonly<Record<string, string | undefined>> };
}

type Run = (client: AdminClient, args: string[], opts: Record<string, unknown>) => Promise<unknown>;

function withConnection(cmd: Command): Command {
  return cmd
    .option('--url <url>', `gateway URL (default $SWITCHYARD_URL or ${DEFAULT_ADMIN_URL})`)
    .option('--key <key>', 'admin key (default $SWITCHYARD_ADMIN_KEY, then $SWITCHYARD_MASTER_KEY)')
    .option('--store <store>', 'work on the governance store directly, as the master key: sqlite:PATH or postgres://…')
    .option('--json', 'print JSON');
}

async function connect(ctx: Context, opts: ConnectionOptions): Promise<AdminClient> {
  if (opts.store !== undefined) {
    if (opts.url !== undefined || opts.key !== undefined) throw new CliError('--store works on the store directly; leave out --url and --key');
    return DirectClient.open(opts.store);
  }
  const key = opts.key ?? ctx.io.env.SWITCHYARD_ADMIN_KEY ?? ctx.io.env.SWITCHYARD_MASTER_KEY;
  if (!key) throw new CliError('no admin key: pass --key, set SWITCHYARD_ADMIN_KEY or SWITCHYARD_MASTER_KEY, or use --store');
  return new HttpClient(opts.url ?? ctx.io.env.SWITCHYARD_URL ?? DEFAULT_ADMIN_URL, key);
}

/** Adds a leaf command whose action is one request through whichever client the options select. */
function leaf(ctx: Context, parent: Command, spec: string, description: string, entity: string, write: boolean, run: Run, configure?: (cmd: Command) => Command): void {
  let cmd = parent.command(spec).description(description);
  if (configure) cmd = configure(cmd);
  withConnection(cmd).action(async (...received: unknown[]) => {
    const command = received[received.length - 1] as Command;
    const opts = command.opts<Record<string, unknown> & ConnectionOptions>();
    const args = command.args;
    let client: AdminClient | undefined;
    try {
      client = await connect(ctx, opts);
      const result = await run(client, args, opts);
      ctx.io.stdout(`${opts.json ? JSON.stringify(result, null, 2) : render(result, entity)}\n`);
      if (write && client.direct) {
        ctx.io.stderr('note: written to the store directly; a running gateway sees the change when it next loads governance state (restart)\n');
      }
    } catch (error) {
      ctx.io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      ctx.io.fail(1);
    } finally {
      await client?.close();
    }
  });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
const nums = (v: unknown): number[] | undefined => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : undefined);
const seg = (id: string): string => encodeURIComponent(id);

function budgetFlags(opts: Record<string, unknown>): BudgetFlags {
  return { budgetUsd: num(opts.budgetUsd), period: str(opts.period), hard: opts.hard === true, soft: opts.soft === true, alerts: nums(opts.alerts) };
}

function limitFlags(opts: Record<string, unknown>): LimitFlags {
  return { rpm: num(opts.rpm), tpm: num(opts.tpm), maxConcurrency: num(opts.maxConcurrency) };
}

/**
 * Adds `orgs`, `teams`, `users`, `keys`, `budgets` and `audit` to the program. Each subcommand takes
 * `--url`/`--key` (HTTP to a gateway) or `--store` (direct), and `--json`.
 */
export function registerAdminCommands(program: Command, io: AdminCliIO = {}): void {
  const ctx: Context = {
    io: {
      stdout: io.stdout ?? ((text) => void process.stdout.write(text)),
      stderr: io.stderr ?? ((text) => void process.stderr.write(text)),
      fail: io.fail ?? ((code) => void (process.exitCode = code)),
      env: io.env ?? process.env,
    },
  };

  // orgs
  const orgs = program.command('orgs').description('organisations');
  leaf(ctx, orgs, 'list', 'list organisations', 'org', false, (c) => c.request('GET', '/admin/v1/orgs'));
  leaf(ctx, orgs, 'get <id>', 'show an organisation', 'org', false, (c, [id]) => c.request('GET', `/admin/v1/orgs/${seg(id)}`));
  leaf(
    ctx,
    orgs,
    'create',
    'create an organisation (master key only)',
    'org',
    true,
    (c, _, o) => c.request('POST', '/admin/v1/orgs', undefined, compact({ name: o.name, timezone: o.timezone })),
    (cmd) => cmd.requiredOption('--name <name>', 'organisation name').option('--timezone <tz>', 'IANA time zone for budget periods (default UTC)'),
  );
  leaf(
    ctx,
    orgs,
    'update <id>',
    "change an organisation's name or time zone",
    'org',
    true,
    (c, [id], o) => c.request('PATCH', `/admin/v1/orgs/${seg(id)}`, undefined, compact({ name: o.name, timezone: o.timezone })),
    (cmd) => cmd.option('--name <name>', 'new name').option('--timezone <tz>', 'IANA time zone'),
  );

  // teams
  const teams = program.command('teams').description('teams and their members');
  leaf(ctx, teams, 'list', 'list teams', 'team', false, (c, _, o) => c.request('GET', '/admin/v1/teams', { org_id: str(o.org) }), (cmd) => cmd.option('--org <id>', 'organisation'));
  leaf(ctx, teams, 'get <id>', 'show a team with its budgets', 'team', false, (c, [id]) => c.request('GET', `/admin/v1/teams/${seg(id)}`));
  leaf(
    ctx,
    teams,
    'create',
    'create a team',
    'team',
    true,
    (c, _, o) =>
      c.request(
        'POST',
        '/admin/v1/teams',
        undefined,
        compact({ name: o.name, org_id: str(o.org), models: strs(o.models), budget: inlineBudget(budgetFlags(o)), limits: limits(limitFlags(o)), default_strategy: str(o.strategy) }),
      ),
    (cmd) =>
      withLimitFlags(
        withBudgetFlags(
          cmd
            .requiredOption('--name <name>', 'team name')
            .option('--org <id>', 'organisation (default: yours)')
            .option('--models <globs>', 'allowed models, comma-separated or repeated', list)
            .option('--strategy <name>', 'default routing strategy'),
        ),
      ),
  );
  leaf(
    ctx,
    teams,
    'update <id>',
    "change a team's name, models, limits or default strategy",
    'team',
    true,
    (c, [id], o) =>
      c.request('PATCH', `/admin/v1/teams/${seg(id)}`, undefined, compact({ name: o.name, models: strs(o.models), limits: limits(limitFlags(o)), default_strategy: str(o.strategy) })),
    (cmd) =>
      withLimitFlags(
        cmd
          .option('--name <name>', 'new name')
          .option('--models <globs>', 'allowed models, comma-separated or repeated', list)
          .option('--strategy <name>', 'default routing strategy'),
      ),
  );
  leaf(ctx, teams, 'delete <id>', 'delete a team (revoke its keys first)', 'team', true, (c, [id]) => c.request('DELETE', `/admin/v1/teams/${seg(id)}`));
  leaf(
    ctx,
    teams,
    'add-member <team> <user>',
    'add a user to a team, or change their role in it',
    'user',
    true,
    (c, [team, user], o) => c.request('PUT', `/admin/v1/teams/${seg(team)}/members/${seg(user)}`, undefined, compact({ role: o.role })),
    (cmd) => cmd.addOption(new Option('--role <role>', 'role in the team').choices(['team_admin', 'member', 'viewer']).default('member')),
  );
  leaf(ctx, teams, 'remove-member <team> <user>', 'remove a user from a team (revokes their keys in it)', 'user', true, (c, [team, user]) =>
    c.request('DELETE', `/admin/v1/teams/${seg(team)}/members/${seg(user)}`),
  );

  // users
  const users = program.command('users').description('users and their roles');
  leaf(ctx, users, 'list', 'list users', 'user', false, (c, _, o) => c.request('GET', '/admin/v1/users', { team_id: str(o.team) }), (cmd) => cmd.option('--team <id>', 'members of this team'));
  leaf(ctx, users, 'get <id>', 'show a user', 'user', false, (c, [id]) => c.request('GET', `/admin/v1/users/${seg(id)}`));
  leaf(
    ctx,
    users,
    'create',
    'create a user',
    'user',
    true,
    (c, _, o) =>
      c.request(
        'POST',
        '/admin/v1/users',
        undefined,
        compact({
          email: o.email,
          name: str(o.name),
          role: str(o.role),
          teams: strs(o.team)?.map((t) => {
            const [teamId, role] = t.split(':');
            return compact({ team_id: teamId, role });
          }),
        }),
      ),
    (cmd) =>
      cmd
        .requiredOption('--email <email>', 'email address')
        .option('--name <name>', 'display name')
        .addOption(new Option('--role <role>', 'org role').choices(['org_owner', 'org_admin', 'member', 'viewer']))
        .option('--team <id[:role]>', 'team membership (role team_admin|member|viewer, default member); repeatable', (v: string, prev: string[] = []) => [...prev, v]),
  );
  leaf(
    ctx,
    users,
    'update <id>',
    "change a user's email, name or org role",
    'user',
    true,
    (c, [id], o) => c.request('PATCH', `/admin/v1/users/${seg(id)}`, undefined, compact({ email: str(o.email), name: str(o.name), role: str(o.role) })),
    (cmd) =>
      cmd
        .option('--email <email>', 'email address')
        .option('--name <name>', 'display name')
        .addOption(new Option('--role <role>', 'org role').choices(['org_owner', 'org_admin', 'member', 'viewer'])),
  );
  leaf(ctx, users, 'delete <id>', 'delete a user (revokes their keys)', 'user', true, (c, [id]) => c.request('DELETE', `/admin/v1/users/${seg(id)}`));

  // keys
  const keys = program.command('keys').description('virtual API keys');
  leaf(
    ctx,
    keys,
    'list',
    'list keys',
    'key',
    false,
    (c, _, o) => c.request('GET', '/admin/v1/keys', { team_id: str(o.team), user_id: str(o.user), include_revoked: o.all === true ? 'true' : undefined }),
    (cmd) => cmd.option('--team <id>', "a team's keys").option('--user <id>', "a user's keys").option('--all', 'include revoked keys'),
  );
  leaf(ctx, keys, 'get <id>', "show a key with its budgets and this period's spend", 'key', false, (c, [id]) => c.request('GET', `/admin/v1/keys/${seg(id)}`));
  leaf(
    ctx,
    keys,
    'create',
    'create a key; prints its secret once',
    'key',
    true,
    (c, _, o) =>
      c.request(
        'POST',
        '/admin/v1/keys',
        undefined,
        compact({
          name: o.name,
          team_id: str(o.team),
          user_id: str(o.user),
          kind: str(o.kind),
          scope: o.admin === true ? 'admin' : undefined,
          models: strs(o.models),
          budget: inlineBudget(budgetFlags(o)),
          limits: limits(limitFlags(o)),
          expires_at: str(o.expires),
        }),
      ),
    (cmd) =>
      withLimitFlags(
        withBudgetFlags(
          cmd
            .requiredOption('--name <name>', 'key name')
            .option('--team <id>', 'team the key belongs to')
            .option('--user <id>', 'user the key belongs to')
            .addOption(new Option('--kind <kind>', 'key kind').choices(['user', 'team', 'service']))
            .option('--admin', 'admin scope: the key may also use the admin API, as its user')
            .option('--models <globs>', 'allowed models, comma-separated or repeated', list)
            .option('--expires <when>', 'expiry: a duration from now (90d, 12h) or an ISO date-time', expiry),
        ),
      ),
  );
  leaf(
    ctx,
    keys,
    'update <id>',
    "change a key's name, models, limits or expiry",
    'key',
    true,
    (c, [id], o) =>
      c.request('PATCH', `/admin/v1/keys/${seg(id)}`, undefined, compact({ name: str(o.name), models: strs(o.models), limits: limits(limitFlags(o)), expires_at: str(o.expires) })),
    (cmd) =>
      withLimitFlags(
        cmd
          .option('--name <name>', 'new name')
          .option('--models <globs>', 'allowed models, comma-separated or repeated', list)
          .option('--expires <when>', 'expiry: a duration from now (90d, 12h) or an ISO date-time', expiry),
      ),
  );
  leaf(ctx, keys, 'revoke <id>', 'revoke a key at once', 'key', true, (c, [id]) => c.request('DELETE', `/admin/v1/keys/${seg(id)}`));
  leaf(
    ctx,
    keys,
    'rotate <id>',
    'issue a new secret; the old one works for --overlap seconds more',
    'key',
    true,
    (c, [id], o) => c.request('POST', `/admin/v1/keys/${seg(id)}/rotate`, undefined, compact({ overlap_seconds: num(o.overlap) })),
    (cmd) => cmd.option('--overlap <seconds>', 'how long the old secret keeps working (default 3600)', nonNegativeInt),
  );

  // budgets
  const budgets = program.command('budgets').description('spend budgets');
  leaf(
    ctx,
    budgets,
    'list',
    'list budgets with current spend',
    'budget',
    false,
    (c, _, o) => c.request('GET', '/admin/v1/budgets', { scope: str(o.scope), scope_id: str(o.scopeId) }),
    (cmd) => cmd.addOption(new Option('--scope <scope>', 'budget scope').choices(['key', 'user', 'team', 'org'])).option('--scope-id <id>', 'the key, user or team id'),
  );
  leaf(ctx, budgets, 'get <id>', 'show a budget with current spend', 'budget', false, (c, [id]) => c.request('GET', `/admin/v1/budgets/${seg(id)}`));
  leaf(
    ctx,
    budgets,
    'create',
    'create a budget',
    'budget',
    true,
    (c, _, o) =>
      c.request(
        'POST',
        '/admin/v1/budgets',
        undefined,
        compact({ scope: o.scope, scope_id: str(o.scopeId), max_usd: o.maxUsd, period: o.period, hard: hardness(budgetFlags(o)), alert_thresholds: nums(o.alerts) }),
      ),
    (cmd) =>
      cmd
        .addOption(new Option('--scope <scope>', 'what the budget limits').choices(['key', 'user', 'team', 'org']).makeOptionMandatory())
        .option('--scope-id <id>', 'the key, user or team id (org: default yours)')
        .requiredOption('--max-usd <usd>', 'budget in USD', positive)
        .addOption(periodOption().makeOptionMandatory())
        .option('--hard', 'refuse requests beyond the budget (default)')
        .option('--soft', 'only alert')
        .option('--alerts <fractions>', 'alert thresholds, e.g. 0.5,0.8,1', fractions),
  );
  leaf(
    ctx,
    budgets,
    'update <id>',
    "change a budget's amount, period, hardness or alerts",
    'budget',
    true,
    (c, [id], o) =>
      c.request(
        'PATCH',
        `/admin/v1/budgets/${seg(id)}`,
        undefined,
        compact({ max_usd: num(o.maxUsd), period: str(o.period), hard: hardness(budgetFlags(o)), alert_thresholds: nums(o.alerts) }),
      ),
    (cmd) =>
      cmd
        .option('--max-usd <usd>', 'budget in USD', positive)
        .addOption(periodOption())
        .option('--hard', 'refuse requests beyond the budget')
        .option('--soft', 'only alert')
        .option('--alerts <fractions>', 'alert thresholds, e.g. 0.5,0.8,1', fractions),
  );
  leaf(ctx, budgets, 'delete <id>', 'delete a budget and its spend history', 'budget', true, (c, [id]) => c.request('DELETE', `/admin/v1/budgets/${seg(id)}`));

  // audit
  const audit = program.command('audit').description('the audit log of admin actions');
  leaf(
    ctx,
    audit,
    'list',
    'query the audit log, newest first',
    'audit',
    false,
    (c, _, o) =>
      c.request('GET', '/admin/v1/audit', {
        actor: str(o.actor),
        action: str(o.action),
        target_type: str(o.targetType),
        target_id: str(o.targetId),
        since: str(o.since),
        until: str(o.until),
        limit: num(o.limit)?.toString(),
      }),
    (cmd) =>
      cmd
        .option('--actor <actor>', 'master, config, system or user:<id>')
        .option('--action <action>', 'e.g. key.revoke')
        .option('--target-type <type>', 'key, team, user, budget, org')
        .option('--target-id <id>', 'the object')
        .option('--since <iso>', 'from this time (inclusive)')
        .option('--until <iso>', 'until this time (exclusive)')
        .option('--limit <n>', 'most entries (default 100, at most 1000)', positiveInt),
  );
}
