// `switchyard secrets keygen|encrypt|rotate` (the commands, driven in-process for speed) and a real
// `switchyard serve` on the config they produced.
import { Command } from 'commander';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import { registerSecretsCommands } from '../src/cli/secrets.ts';
import { generateSecretKey } from '../src/secrets/keyring.ts';
import { createSimulator } from '../src/sim/index.ts';
import { freePort, killAll, run } from './support/process.ts';

afterAll(() => killAll());

async function cli(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number; out: string }> {
  let out = '';
  let code = 0;
  const program = new Command('switchyard').exitOverride();
  registerSecretsCommands(program, { stdout: (t) => (out += t), stderr: (t) => (out += t), stdin: async () => stdin, env, fail: (c) => (code = c) });
  await program.parseAsync(['secrets', ...args], { from: 'user' });
  return { code, out };
}

describe('switchyard secrets', () => {
  it('keygen → encrypt (stdin) → serve uses the value → rotate to a new key', async () => {
    const oldKey = (await cli(['keygen'], {})).out.trim();
    const newKey = generateSecretKey();
    expect(oldKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const providerKey = 'sk-cli-provider-secret-000111';
    const sealed = await cli(['encrypt'], { SWITCHYARD_SECRET_KEY: oldKey }, `${providerKey}\n`);
    expect(sealed.code).toBe(0);
    expect(sealed.out.trim()).toMatch(/^enc:v1:[0-9a-f]{8}:/);
    expect(sealed.out).not.toContain(providerKey);

    const sim = createSimulator('openai', { apiKey: providerKey });
    await sim.listen();
    const dir = mkdtempSync(join(tmpdir(), 'sy-secrets-cli-'));
    const config = join(dir, 'switchyard.yaml');
    writeFileSync(
      config,
      `server: { master_key: sk-sy-cli-master }
storage: { sqlite: ${join(dir, 'db.sqlite')} }
providers:
  # sealed with the old key
  - { name: sim, type: openai, base_url: "${sim.url}/v1", api_key: "${sealed.out.trim()}" }
models: [ { name: m, deployments: [ { provider: sim, model: gpt-4o-mini } ] } ]
`,
    );
    const serveOnce = async (env: Record<string, string>): Promise<number> => {
      const port = await freePort();
      const gw = run(['serve', '--config', config, '--port', String(port)], { env });
      await gw.waitFor('listening on');
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-sy-cli-master' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      });
      gw.child.kill('SIGTERM');
      await gw.exit;
      return res.status;
    };
    expect(await serveOnce({ SWITCHYARD_SECRET_KEY: oldKey })).toBe(200);

    const stuck = await cli(['rotate', '--config', config], { SWITCHYARD_SECRET_KEY: newKey });
    expect(stuck.code).toBe(2);
    expect(stuck.out).toMatch(/neither SWITCHYARD_SECRET_KEY nor SWITCHYARD_SECRET_KEY_PREVIOUS/);
    expect(stuck.out).not.toContain(providerKey);
    const rotated = await cli(['rotate', '--config', config], { SWITCHYARD_SECRET_KEY: newKey, SWITCHYARD_SECRET_KEY_PREVIOUS: oldKey });
    expect(rotated.code).toBe(0);
    expect(rotated.out).toContain('re-sealed 1 value(s)');
    const text = readFileSync(config, 'utf8');
    expect(text).toContain('# sealed with the old key');
    expect(text).not.toContain(sealed.out.trim());
    // The rotated file opens with the new key alone, and no longer with the old one.
    expect(loadConfig(config, { SWITCHYARD_SECRET_KEY: newKey }).providers[0].api_key).toBe(providerKey);
    expect(() => loadConfig(config, { SWITCHYARD_SECRET_KEY: oldKey })).toThrow(/cannot decrypt/);
    await sim.close();
  }, 60_000);
});
