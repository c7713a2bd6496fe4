// The `switchyard` command as a user runs it: quick start, serve with a config file, reload, simulate.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, killAll, run } from './support/process.ts';

afterEach(killAll);

describe('switchyard start (npm start)', () => {
  it('serves simulated providers when none are configured, and keeps usage across a SIGTERM', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sy-start-'));
    const port = await freePort();
    const gw = run(['start'], { cwd, env: { PORT: String(port), SWITCHYARD_MASTER_KEY: 'sk-sy-cli-test' } });
    const banner = await gw.waitFor('listening on');
    await gw.waitFor('SIMULATED providers');
    expect(banner).toContain(`127.0.0.1:${port}`);
    expect(gw.output()).toContain('OPENAI_API_KEY');
    expect(gw.output()).not.toContain('Generated master key');

    const client = new OpenAI({ apiKey: 'sk-sy-cli-test', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    const ids: string[] = [];
    for (const model of ['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash', 'nova-lite']) {
      const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(data.choices[0].message.content).toContain('Simulated reply');
      expect(Number(response.headers.get('x-switchyard-cost-usd'))).toBeGreaterThan(0);
      ids.push(response.headers.get('x-switchyard-request-id')!);
    }
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
    const db = new Database(join(cwd, '.switchyard/switchyard.db'), { readonly: true });
    const rows = db.prepare('SELECT request_id, cost_usd FROM usage_records').all() as Array<{ request_id: string; cost_usd: number }>;
    db.close();
    expect(rows.map((r) => r.request_id).sort()).toEqual(ids.sort());
  });

  it('generates a master key once, prints it once and reuses it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sy-key-'));
    const port = await freePort();
    const first = run(['start'], { cwd, env: { PORT: String(port) } });
    const out = await first.waitFor('listening on');
    const key = /sk-sy-master-[A-Za-z0-9_-]+/.exec(await first.waitFor('Generated master key'))?.[0];
    expect(key).toBeTruthy();
    expect(out).toBeTruthy();
    first.child.kill('SIGTERM');
    await first.exit;
    const second = run(['start'], { cwd, env: { PORT: String(port) } });
    await second.waitFor('listening on');
    await second.waitFor('Master key: read from');
    expect(second.output()).not.toContain(key!);
    const res = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    second.child.kill('SIGTERM');
    await second.exit;
  });
});

describe('switchyard serve', () => {
  it('refuses an invalid config naming the file, line and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-bad-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'server: { master_key: k }\nproviders:\n  - { name: a, type: openai }\nmodels:\n  - name: m\n    deployments:\n      - { provider: nope, model: x }\n');
    const gw = run(['serve', '--config', file]);
    expect(await gw.exit).toBe(2);
    expect(gw.output()).toMatch(/bad\.yaml:7: models\[0\]\.deployments\[0\]\.provider/);
  });

  it('runs from a config file against a standalone simulator and reloads on SIGHUP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-serve-'));
    const simPort = await freePort();
    const gwPort = await freePort();
    const sim = run(['simulate', '--format', 'anthropic', '--port', String(simPort), '--api-key', 'upstream-key']);
    await sim.waitFor('listening on');
    const file = join(dir, 'switchyard.yaml');
    const write = (models: string): void =>
      writeFileSync(
        file,
        `server: { master_key: "\${GW_KEY}" }
storage: { sqlite: ${join(dir, 'db.sqlite')} }
providers:
  - { name: claude, type: anthropic, base_url: "http://127.0.0.1:${simPort}", api_key: "\${UPSTREAM_KEY}" }
models:
${models}`,
      );
    write('  - { name: sonnet, deployments: [ { provider: claude, model: claude-sonnet-4-5-20250929 } ] }\n');
    const gw = run(['serve', '--config', file, '--port', String(gwPort), '--host', '127.0.0.1'], { env: { GW_KEY: 'sk-sy-serve', UPSTREAM_KEY: 'upstream-key' } });
    await gw.waitFor('listening on');
    const client = new OpenAI({ apiKey: 'sk-sy-serve', baseURL: `http://127.0.0.1:${gwPort}/v1`, maxRetries: 0 });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['sonnet']);
    const answer = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0].message.content).toContain('Simulated reply');

    write(
      '  - { name: sonnet, deployments: [ { provider: claude, model: claude-sonnet-4-5-20250929 } ] }\n  - { name: haiku, deployments: [ { provider: claude, model: claude-haiku-4-5-20251001 } ] }\n',
    );
    gw.child.kill('SIGHUP');
    await gw.waitFor('configuration reloaded');
    expect((await client.models.list()).data.map((m) => m.id).sort()).toEqual(['haiku', 'sonnet']);
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
  });
});

describe('switchyard simulate', () => {
  it('injects the configured faults', async () => {
    const port = await freePort();
    const sim = run(['simulate', '--format', 'gemini', '--port', String(port), '--error-rate', '503=1']);
    await sim.waitFor('listening on');
    const res = await fetch(`http://127.0.0.1:${port}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('UNAVAILABLE');
  });
});
