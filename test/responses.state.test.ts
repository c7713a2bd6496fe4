// Stored Responses API state as clients see it: tenant isolation between virtual keys, survival of a
// restart on the embedded SQLite store, a stream cut mid-way, and two replicas sharing PostgreSQL
// where the follow-up lands on the other replica the moment `response.completed` arrives.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.ts';
import type { SwitchyardConfig } from '../src/config/schema.ts';
import { DEFAULT_ORG_ID } from '../src/governance/directory.ts';
import { hashSecret } from '../src/governance/principal.ts';
import { GovernanceRuntime } from '../src/governance/runtime.ts';
import type { ApiKey } from '../src/governance/types.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { openSqliteGovernanceStore } from '../src/store/governance/open.ts';
import { describeWithPostgres, PG_URL } from '../src/store/postgres/test-support.ts';
import { PostgresResponseBackend } from '../src/store/responses/postgres.ts';
import { SqliteResponseBackend } from '../src/store/responses/sqlite.ts';
import { ResponseStore } from '../src/store/responses/store.ts';
import { openDatabase, type SqliteDatabase } from '../src/store/sqlite/database.ts';
import { MemoryUsageSink } from './support/harness.ts';

const MASTER = 'sk-sy-responses-master';
let sim: SimServer;
let config: SwitchyardConfig;
let dir: string;

beforeAll(async () => {
  sim = createSimulator('anthropic', { outputTokens: 12, tokensPerSecond: 0 });
  await sim.listen();
  config = parseConfig(
    `
server: { master_key: ${MASTER} }
providers: [ { name: sim, type: anthropic, base_url: "${sim.url}", api_key: k } ]
models:
  - name: claude
    deployments: [ { provider: sim, model: claude-sonnet-4-20250514 } ]
`,
    { env: {} },
  );
  dir = await mkdtemp(join(tmpdir(), 'switchyard-responses-'));
});

afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

function sdk(url: string, apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 });
}

describe('tenant isolation between virtual keys (SQLite store)', () => {
  let gateway: Gateway;
  let db: SqliteDatabase;
  let url: string;
  const usage = new MemoryUsageSink();
  const secrets: string[] = [];

  beforeAll(async () => {
    db = openDatabase(join(dir, 'isolation.db'));
    const runtime = await GovernanceRuntime.open({ store: openSqliteGovernanceStore(db), config: config.governance, masterKey: MASTER });
    for (const id of ['key_a', 'key_b']) {
      const secret = `sk-sy-${id}-${randomBytes(8).toString('hex')}`;
      const key: ApiKey = { id, orgId: DEFAULT_ORG_ID, kind: 'service', scope: 'inference', name: id, prefix: secret.slice(0, 10), hash: hashSecret(secret), declared: false, createdAt: Date.now() };
      await runtime.store.createKey(key);
      runtime.directory.putKey(key);
      secrets.push(secret);
    }
    gateway = new Gateway({ config, usageSink: usage, governance: runtime, responses: new ResponseStore(new SqliteResponseBackend(db)) });
    url = (await gateway.listen(0, '127.0.0.1')).url;
  });

  afterAll(async () => {
    await gateway.close(1000);
    db.close();
  });

  it('lets only the creating key (and the master key) read, continue, list and delete a response', async () => {
    const [a, b] = [sdk(url, secrets[0]), sdk(url, secrets[1])];
    const { data: created, response } = await a.responses.create({ model: 'claude', input: 'secret plans' }).withResponse();
    expect(usage.find(response.headers.get('x-switchyard-request-id'))).toMatchObject({ operation: 'responses', keyId: 'key_a' });

    await expect(b.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(b.responses.inputItems.list(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(b.responses.delete(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(b.responses.create({ model: 'claude', input: 'and?', previous_response_id: created.id })).rejects.toMatchObject({
      status: 400,
      code: 'previous_response_not_found',
    });

    expect((await sdk(url, MASTER).responses.retrieve(created.id)).id).toBe(created.id);
    const next = await a.responses.create({ model: 'claude', input: 'and?', previous_response_id: created.id });
    expect(next.status).toBe('completed');
    await a.responses.delete(created.id);
    await expect(a.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    // A response made by the master key is not visible to a virtual key either.
    const masters = await sdk(url, MASTER).responses.create({ model: 'claude', input: 'admin only' });
    await expect(a.responses.retrieve(masters.id)).rejects.toMatchObject({ status: 404 });
  });
});

describe('the embedded SQLite store', () => {
  it('keeps conversations across a gateway restart', async () => {
    const file = join(dir, 'restart.db');
    const start = async (): Promise<{ gateway: Gateway; db: SqliteDatabase; url: string }> => {
      const db = openDatabase(file);
      const gateway = new Gateway({ config, responses: new ResponseStore(new SqliteResponseBackend(db)) });
      return { gateway, db, url: (await gateway.listen(0, '127.0.0.1')).url };
    };
    const first = await start();
    const created = await sdk(first.url, MASTER).responses.create({ model: 'claude', input: 'Remember the number 42' });
    await first.gateway.close(1000);
    first.db.close();

    const second = await start();
    try {
      const client = sdk(second.url, MASTER);
      expect((await client.responses.retrieve(created.id)).output_text).toBe(created.output_text);
      const next = await client.responses.create({ model: 'claude', input: 'Which number?', previous_response_id: created.id });
      expect(next.usage?.input_tokens).toBeGreaterThan(created.usage?.input_tokens ?? Infinity);
    } finally {
      await second.gateway.close(1000);
      second.db.close();
    }
  });

  it('ends a stream cut mid-way with error and response.failed events, and does not store it', async () => {
    const gateway = new Gateway({ config });
    const url = (await gateway.listen(0, '127.0.0.1')).url;
    sim.setKnobs({ midStreamAbortRate: 1 });
    try {
      const stream = await sdk(url, MASTER).responses.create({ model: 'claude', input: 'tell me a story', stream: true });
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const types = events.map((e) => e.type);
      expect(types).toContain('response.output_text.delta');
      expect(types.slice(-2)).toEqual(['error', 'response.failed']);
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      const failed = events.at(-1);
      if (failed?.type !== 'response.failed') throw new Error('expected response.failed');
      expect(failed.response.status).toBe('failed');
      expect(failed.response.error?.code).toBe('server_error');
      await expect(sdk(url, MASTER).responses.retrieve(failed.response.id)).rejects.toMatchObject({ status: 404 });
    } finally {
      sim.setKnobs({ midStreamAbortRate: 0 });
      await gateway.close(1000);
    }
  });
});

/** Writes that take a while, as over a real network: the ordering guarantee must not depend on luck. */
class SlowPostgresBackend extends PostgresResponseBackend {
  override async put(...args: Parameters<PostgresResponseBackend['put']>): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 150));
    return super.put(...args);
  }
}

await describeWithPostgres('two replicas sharing PostgreSQL', () => {
  const schema = `responses_test_${randomBytes(6).toString('hex')}`;
  const replicas: Array<{ gateway: Gateway; url: string }> = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const gateway = new Gateway({ config, responses: new ResponseStore(new SlowPostgresBackend({ url: PG_URL, schema })) });
      replicas.push({ gateway, url: (await gateway.listen(0, '127.0.0.1')).url });
    }
  });

  afterAll(async () => {
    for (const r of replicas) await r.gateway.close(1000);
    const pool = new pg.Pool({ connectionString: PG_URL });
    await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await pool.end();
  });

  it('continues on replica B the moment replica A streams response.completed', async () => {
    const [a, b] = [sdk(replicas[0].url, MASTER), sdk(replicas[1].url, MASTER)];
    const stream = await a.responses.create({ model: 'claude', input: 'first turn', stream: true });
    let followUp: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      // Still inside replica A's open stream: the stored turn must already be readable elsewhere.
      if (event.type === 'response.completed') followUp = await b.responses.create({ model: 'claude', input: 'second turn', previous_response_id: event.response.id });
    }
    expect(followUp?.status).toBe('completed');
    const items = await b.responses.inputItems.list(followUp?.id ?? '', { order: 'asc' });
    expect(items.data.map((i) => (i.type === 'message' ? i.role : i.type))).toEqual(['user', 'assistant', 'user']);
    await a.responses.delete(followUp?.id ?? '');
    await expect(b.responses.retrieve(followUp?.id ?? '')).rejects.toMatchObject({ status: 404 });
  });
});
