import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.ts';
import { ConfigError } from '../config/errors.ts';
import { decryptSecret, encryptSecret, envelopeKeyId } from './cipher.ts';
import { rotateConfigText } from './config.ts';
import { parseSecretKey } from './keyring.ts';

const oldText = randomBytes(32).toString('base64');
const newText = randomBytes(32).toString('base64');
const oldKey = parseSecretKey(oldText, 'old');
const newKey = parseSecretKey(newText, 'new');

const config = (apiKey: string, extra = '') => `
server: { master_key: "${encryptSecret('sk-master-plain', oldKey)}" }
providers:
  # the production key, sealed
  - name: main
    type: openai
    api_key: "${apiKey}"
${extra}models:
  - { name: m, deployments: [ { provider: main, model: gpt-4o-mini } ] }
`;

describe('encrypted values in the configuration', () => {
  it('are opened at load time, wherever they are, and may come through ${VAR}', () => {
    const text = config('${SEALED_KEY}');
    const parsed = parseConfig(text, { env: { SWITCHYARD_SECRET_KEY: oldText, SEALED_KEY: encryptSecret('sk-provider-plain', oldKey) } });
    expect(parsed.providers[0].api_key).toBe('sk-provider-plain');
    expect(parsed.server.master_key).toBe('sk-master-plain');
  });

  it('a missing or wrong key is a config error naming the field, never the value', () => {
    const text = config(encryptSecret('sk-provider-plain', oldKey));
    expect(() => parseConfig(text, { env: {} })).toThrow(/SWITCHYARD_SECRET_KEY is not set/);
    let error: ConfigError | undefined;
    try {
      parseConfig(text, { env: { SWITCHYARD_SECRET_KEY: newText } });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toMatch(/switchyard\.yaml:\d+: providers\[0\]\.api_key: cannot decrypt/);
    expect(error?.message).not.toContain('sk-provider-plain');
    // With the old key as the previous one, the new key still opens the config.
    expect(parseConfig(text, { env: { SWITCHYARD_SECRET_KEY: newText, SWITCHYARD_SECRET_KEY_PREVIOUS: oldText } }).providers[0].api_key).toBe('sk-provider-plain');
  });

  it('rotation re-seals every envelope with the current key and keeps the rest of the file', () => {
    const text = config(encryptSecret('sk-provider-plain', oldKey));
    const env = { SWITCHYARD_SECRET_KEY: newText, SWITCHYARD_SECRET_KEY_PREVIOUS: oldText };
    const result = rotateConfigText(text, env);
    expect(result.rotated).toBe(2);
    expect(result.text).toContain('# the production key, sealed');
    const envelopes = [...result.text.matchAll(/enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+/g)].map((m) => m[0]);
    expect(envelopes).toHaveLength(2);
    for (const e of envelopes) expect(envelopeKeyId(e)).toBe(newKey.id);
    expect(envelopes.map((e) => decryptSecret(e, [newKey])).sort()).toEqual(['sk-master-plain', 'sk-provider-plain']);
    // The rotated file loads with the new key alone; a second rotation has nothing to do.
    expect(parseConfig(result.text, { env: { SWITCHYARD_SECRET_KEY: newText } }).providers[0].api_key).toBe('sk-provider-plain');
    expect(rotateConfigText(result.text, { SWITCHYARD_SECRET_KEY: newText })).toMatchObject({ rotated: 0, current: 2 });
  });
});
