import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminTestServer, type AdminTestServer } from '../admin/testing.ts';
import { openSqliteGovernanceStore } from '../store/governance/open.ts';
import { registerAdminCommands } from './admin.ts';

interface Result {
  code: number;
  out: string;
  err: string;
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const result: Result = { code: 0, out: '', err: '' };
  const program = new Command('switchyard').exitOverride();
  registerAdminCommands(program, {
    stdout: (text) => void (result.out += text),
    stderr: (text) => void (result.err += text),
    fail: (code) => void (result.code = code),
    env,
  });
  await program.parseAsync(args, { from: 'user' });
  return result;
}

async function json<T>(args: string[], env?: Record<string, string>): Promise<T> {
  const result = await run([...args, '--json'], env);
  expect(result, result.err).toMatchObject({ code: 0 });
  return JSON.parse(result.out) as T;
}

describe('direct store mode (--store sqlite:PATH)', () => {
  let dir: string;
  let store: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sy-admin-cli-'));
    store = `sqlite:${join(dir, 'switchyard.db')}`;
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a team and a key with models, a hard daily budget and limits, as in the README', async () => {
    const team = await json<{ id: string }>(['teams', 'create', '--name', 'research', '--store', store]);
    const key = await json<{ id: string; key: string; models: string[]; limits: unknown; budgets: unknown[] }>([
      'keys',
      'create',
      '--name',
      'ci-bot',
      '--team',
      team.id,
      '--models',
      '*-mini',
      '--budget-usd',
      '10',
      '--period',
      'daily',
      '--hard',
      '--rpm',
      '600',
      '--store',
      store,
    ]);
    expect(key.key).toMatch(/^sk-sy-/);
    expect(key).toMatchObject({ models: ['*-mini'], limits: { rpm: 600 }, budgets: [{ max_usd: 10, period: 'daily', hard: true }] });

    // The store holds it: a fresh connection (what the gateway loads at start) finds the key by hash.
    const db = openSqliteGovernanceStore(store.slice('sqlite:'.length));
    expect((await db.getKey(key.id))?.teamId).toBe(team.id);
    await db.close();

    const got = await json<{ spend_usd: number; spend_period: string }>(['keys', 'get', key.id, '--store', store]);
    expect(got).toMatchObject({ spend_usd: 0, spend_period: 'daily' });

    const table = await run(['keys', 'list', '--store', store]);
    expect(table.out).toMatch(/^ID\s+NAME\s+PREFIX\s+STATUS/);
    expect(table.out).toContain('ci-bot');
    expect(table.out).not.toContain(key.key);

    const revoked = await json<{ status: string }>(['keys', 'revoke', key.id, '--store', store]);
    expect(revoked.status).toBe('revoked');
    const audit = await run(['audit', 'list', '--store', store, '--action', 'key.revoke']);
    expect(audit.out).toContain(`key:${key.id}`);
  });

  it('prints the secret once in the readable output, with a warning, and notes direct writes on stderr', async () => {
    const created = await run(['keys', 'create', '--name', 'readable', '--store', store]);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/key: sk-sy-\S+\n\(this secret is shown once/);
    expect(created.err).toContain('written to the store directly');
  });

  it('creates and lists budgets', async () => {
    await json(['budgets', 'create', '--scope', 'org', '--max-usd', '500', '--period', 'monthly', '--soft', '--store', store]);
    const list = await run(['budgets', 'list', '--store', store, '--scope', 'org']);
    expect(list.out).toContain('org:org_default');
    expect(list.out).toMatch(/monthly\s+false\s+500/);
  });

  it('reports errors on stderr with exit code 1', async () => {
    const missing = await run(['keys', 'get', 'key_missing', '--store', store]);
    expect(missing).toMatchObject({ code: 1, out: '' });
    expect(missing.err).toContain('404 not_found_error: key key_missing not found');
    const flags = await run(['keys', 'create', '--name', 'x', '--budget-usd', '5', '--store', store]);
    expect(flags).toMatchObject({ code: 1 });
    expect(flags.err).toContain('--budget-usd needs --period');
    const bad = await run(['keys', 'list', '--store', 'mysql://nope']);
    expect(bad.err).toContain('--store must be sqlite:PATH or a postgres:// URL');
  });
});

describe('HTTP mode (--url, --key)', () => {
  let server: AdminTestServer;

  beforeAll(async () => {
    server = await startAdminTestServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it('talks to a running gateway, whose directory sees the change at once', async () => {
    const team = await json<{ id: string }>(['teams', 'create', '--name', 'ops', '--url', server.url, '--key', server.masterKey]);
    const key = await json<{ id: string; key: string }>(['keys', 'create', '--name', 'bot', '--team', team.id, '--url', server.url], { SWITCHYARD_MASTER_KEY: server.masterKey });
    expect(server.resolver.resolve(key.key, Date.now())).toMatchObject({ key: { id: key.id, teamId: team.id } });
    const rotated = await json<{ key: string; previous: { id: string } }>(['keys', 'rotate', key.id, '--overlap', '0', '--url', server.url], {
      SWITCHYARD_ADMIN_KEY: server.masterKey,
    });
    expect(rotated.previous.id).toBe(key.id);
    expect(() => server.resolver.resolve(key.key, Date.now() + 1)).toThrow(/rotated/);
  });

  it('shows the server’s error for an inference key, and asks for a key when there is none', async () => {
    const key = await json<{ key: string }>(['keys', 'create', '--name', 'inference', '--url', server.url, '--key', server.masterKey]);
    const refused = await run(['keys', 'list', '--url', server.url, '--key', key.key]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('403 permission_error');
    const none = await run(['keys', 'list', '--url', server.url]);
    expect(none.err).toContain('no admin key');
  });
});
