// Secrets never leave the gateway: `switchyard serve` runs with planted secrets (provider keys — some
// sealed as enc:v1 values —, AWS credentials, the master key, declared and created virtual keys, the
// webhook secret, the encryption key itself), is driven through many failure paths (including a
// provider that echoes the key it was sent), and then everything it emitted is scanned: every
// response body and header, its logs (pino, stdout/stderr), the admin API's answers to every GET
// route, /metrics, and the bytes of its SQLite files (usage records, governance tables).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../src/admin/routes.ts';
import { encryptSecret } from '../src/secrets/cipher.ts';
import { parseSecretKey } from '../src/secrets/keyring.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { createBedrockSimServer } from '../src/sim/bedrock/index.ts';
import { freePort, killAll, run, type Run } from './support/process.ts';

const plant = (label: string) => `${label}-PLANTED-${randomBytes(12).toString('hex')}`;
const SECRETS = {
  encryptionKey: randomBytes(32).toString('base64'),
  master: `sk-sy-${plant('master')}`,
  openai: `sk-${plant('openai')}`,
  wrongOpenai: `sk-${plant('wrong')}`,
  echo: plant('echoed'),
  anthropic: `sk-ant-${plant('anthropic')}`,
  awsSecret: plant('awssecret'),
  wrongAwsSecret: plant('wrongaws'),
  declared: `sk-sy-${plant('declared')}`,
  webhook: plant('webhook'),
};
const created: string[] = [];

let dir: string;
let gw: Run;
let base: string;
let echo: Server;
const sims: SimServer[] = [];
/** Everything the gateway sent back, except the one response that hands a new key to its creator. */
const emitted: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sy-secrets-'));
  const openai = createSimulator('openai', { apiKey: SECRETS.openai, outputTokens: 8 });
  const anthropic = createSimulator('anthropic', { apiKey: SECRETS.anthropic, outputTokens: 8 });
  const bedrock = createBedrockSimServer({ apiKey: SECRETS.awsSecret, outputTokens: 8 });
  const broken = createSimulator('openai', { errorRates: { 500: 1 } });
  for (const sim of [openai, anthropic, bedrock, broken]) {
    await sim.listen();
    sims.push(sim);
  }
  // A provider that echoes the credential it was sent, as some do in 401 messages.
  echo = createServer((req, res) => {
    req.resume();
    const presented = String(req.headers.authorization ?? req.headers['x-api-key'] ?? '');
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${presented.replace('Bearer ', '')}`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  const key = parseSecretKey(SECRETS.encryptionKey, 'test');
  const port = await freePort();
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(
    config,
    `server: { master_key: "${encryptSecret(SECRETS.master, key)}" }
storage: { sqlite: ${join(dir, 'db.sqlite')} }
governance: { alerts: { webhook_url: "${echoUrl}/hook", webhook_secret: "${encryptSecret(SECRETS.webhook, key)}" } }
routing: { retries: { max_retries: 0 } }
providers:
  - { name: openai-ok, type: openai, base_url: "${openai.url}/v1", api_key: "${encryptSecret(SECRETS.openai, key)}" }
  - { name: openai-wrong, type: openai, base_url: "${openai.url}/v1", api_key: "${SECRETS.wrongOpenai}" }
  - { name: echoer, type: openai, base_url: "${echoUrl}/v1", api_key: "${SECRETS.echo}" }
  - { name: claude, type: anthropic, base_url: "${anthropic.url}", api_key: "${SECRETS.anthropic}" }
  - { name: broken, type: openai, base_url: "${broken.url}/v1", api_key: "${SECRETS.openai}" }
  - { name: bedrock, type: bedrock, base_url: "${bedrock.url}", region: us-east-1, aws_access_key_id: AKIDPLANTED, aws_secret_access_key: "${SECRETS.awsSecret}" }
  - { name: bedrock-wrong, type: bedrock, base_url: "${bedrock.url}", region: us-east-1, aws_access_key_id: AKIDPLANTED, aws_secret_access_key: "${SECRETS.wrongAwsSecret}" }
models:
  - { name: ok, deployments: [ { provider: openai-ok, model: gpt-4o-mini } ] }
  - { name: wrong, deployments: [ { provider: openai-wrong, model: gpt-4o-mini } ] }
  - { name: echo, deployments: [ { provider: echoer, model: gpt-4o-mini } ] }
  - { name: claude, deployments: [ { provider: claude, model: claude-haiku-4-5 } ] }
  - { name: broken, deployments: [ { provider: broken, model: gpt-4o-mini } ] }
  - { name: bedrock, deployments: [ { provider: bedrock, model: anthropic.claude-sonnet-4-5-20250929-v1:0 } ] }
  - { name: bedrock-wrong, deployments: [ { provider: bedrock-wrong, model: anthropic.claude-sonnet-4-5-20250929-v1:0 } ] }
teams: [ { name: research } ]
keys:
  - { name: declared-bot, team: research, key: "${SECRETS.declared}" }
`,
  );
  gw = run(['serve', '--config', config, '--port', String(port)], { env: { SWITCHYARD_SECRET_KEY: SECRETS.encryptionKey } });
  await gw.waitFor('listening on');
  base = `http://127.0.0.1:${port}`;
}, 60_000);

afterAll(async () => {
  killAll();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
  for (const sim of sims) await sim.close();
});

async function call(method: string, path: string, key: string | undefined, body?: unknown, raw?: string, extra: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await res.text();
  emitted.push(`${res.status} ${JSON.stringify([...res.headers])}\n${text}`);
  return { status: res.status, text };
}

const chat = (model: string, over: object = {}) => ({ model, messages: [{ role: 'user', content: 'hello' }], ...over });
const messages = (model: string, over: object = {}) => ({ model, max_tokens: 32, messages: [{ role: 'user', content: 'hello' }], ...over });

describe('planted secrets never appear in anything the gateway emits', () => {
  it('drives the gateway through successes and many failure paths, then scans responses, logs and the database', async () => {
    // A virtual key, created through the admin API: its secret is in that response only.
    const createdRes = await fetch(`${base}/admin/v1/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.master}` },
      body: JSON.stringify({ name: 'scanner', models: ['*'] }),
    });
    expect(createdRes.status).toBe(201);
    const createdKey = (await createdRes.json()) as { id: string; key: string };
    created.push(createdKey.key);
    const revoked = (await (
      await fetch(`${base}/admin/v1/keys`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.master}` }, body: JSON.stringify({ name: 'to-revoke' }) })
    ).json()) as { id: string; key: string };
    created.push(revoked.key);
    await call('DELETE', `/admin/v1/keys/${revoked.id}`, SECRETS.master);

    // Successes, each dialect, streams included.
    expect((await call('POST', '/v1/chat/completions', SECRETS.master, chat('ok'))).status).toBe(200);
    expect((await call('POST', '/v1/chat/completions', createdKey.key, chat('ok', { stream: true }))).status).toBe(200);
    expect((await call('POST', '/v1/messages', SECRETS.declared, messages('claude'))).status).toBe(200);
    expect((await call('POST', '/v1/chat/completions', SECRETS.master, chat('bedrock'))).status).toBe(200);

    // Failures: upstream auth (the echoing provider among them), upstream 5xx, client errors.
    const failures: Array<[string, string, string | undefined, unknown, string?]> = [
      ['POST', '/v1/chat/completions', SECRETS.master, chat('wrong')],
      ['POST', '/v1/chat/completions', SECRETS.master, chat('echo')],
      ['POST', '/v1/chat/completions', SECRETS.master, chat('echo', { stream: true })],
      ['POST', '/v1/messages', SECRETS.master, messages('echo')],
      ['POST', '/v1/messages', SECRETS.master, messages('echo', { stream: true })],
      ['POST', '/v1/chat/completions', SECRETS.master, chat('bedrock-wrong')],
      ['POST', '/v1/chat/completions', SECRETS.master, chat('broken')],
      ['POST', '/v1/chat/completions', SECRETS.master, chat('nope')],
      ['POST', '/v1/chat/completions', SECRETS.master, undefined, '{"model": "ok", "messages": ['],
      ['POST', '/v1/chat/completions', revoked.key, chat('ok')],
      ['POST', '/v1/chat/completions', `${SECRETS.master}x`, chat('ok')],
      ['POST', '/v1/chat/completions', undefined, chat('ok')],
      ['POST', '/v1/embeddings', SECRETS.master, { model: 'echo', input: 'x' }],
      ['POST', '/v1/route/explain', SECRETS.master, chat('ok')],
      ['GET', '/v1/models', createdKey.key, undefined],
      ['GET', '/metrics', SECRETS.master, undefined],
      ['GET', '/ui', SECRETS.master, undefined],
      ['GET', '/ui/', undefined, undefined],
      ['GET', '/admin/v1/keys', createdKey.key, undefined],
      ['POST', '/admin/v1/keys', SECRETS.master, { name: 'x', budget: { max_usd: -1 } }],
      ['PATCH', '/admin/v1/teams/nope', SECRETS.master, { name: 'y' }],
    ];
    for (const [method, path, key, body, raw] of failures) await call(method, path, key, body, raw);
    const echoed = await call('POST', '/v1/chat/completions', SECRETS.master, chat('echo'));
    expect(echoed.status).toBe(502); // the gateway's credentials were refused, not the client's
    expect(echoed.text).toContain('Incorrect API key provided');

    // Every admin read route, with the ids that exist.
    const ids: Record<string, string> = { id: createdKey.id, user_id: 'none' };
    for (const route of ADMIN_ROUTES.filter((r) => r.method === 'GET')) {
      await call('GET', route.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? 'none'), SECRETS.master);
    }

    // Stop cleanly so the usage batch and the WAL reach the files.
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);

    const files = ['db.sqlite', 'db.sqlite-wal', 'db.sqlite-shm'].map((f) => join(dir, f)).filter(existsSync);
    const stored = files.map((f) => readFileSync(f).toString('latin1'));
    const haystacks: Array<[string, string]> = [
      ['responses', emitted.join('\n')],
      ['logs', gw.output()],
      ...stored.map((text, i): [string, string] => [`database file ${files[i]}`, text]),
    ];
    const planted = [...Object.entries(SECRETS), ...created.map((s, i): [string, string] => [`created key ${i}`, s])];
    const leaks: string[] = [];
    for (const [where, text] of haystacks) for (const [name, secret] of planted) if (text.includes(secret)) leaks.push(`${name} in ${where}`);
    expect(leaks).toEqual([]);
    // The scan saw real traffic: usage rows exist and logs were written.
    const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM usage_records').get() as { n: number }).n).toBeGreaterThan(5);
    // Virtual keys are stored as their SHA-256 only.
    const hashes = (db.prepare('SELECT hash FROM api_keys').all() as Array<{ hash: string }>).map((r) => r.hash);
    for (const secret of [...created, SECRETS.declared]) expect(hashes).toContain(createHash('sha256').update(secret).digest('hex'));
    db.close();
  }, 60_000);
});
