import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { describeEnvProviders, mergeEnvProviders, providersFromEnv } from './env-providers.ts';
import { parseConfig } from './load.ts';

describe('providersFromEnv', () => {
  it('enables nothing from an empty environment', () => {
    expect(providersFromEnv({})).toEqual([]);
  });

  it('detects keyed providers with catalog models', () => {
    const env = {
      OPENAI_API_KEY: 'sk-o',
      ANTHROPIC_API_KEY: 'sk-a',
      DEEPSEEK_API_KEY: 'd',
      MISTRAL_API_KEY: 'm',
      GROQ_API_KEY: 'g',
      TOGETHER_API_KEY: 't',
      XAI_API_KEY: 'x',
      GOOGLE_API_KEY: 'google',
    };
    const providers = providersFromEnv(env);
    expect(providers.map((p) => [p.name, p.type])).toEqual([
      ['openai', 'openai'],
      ['anthropic', 'anthropic'],
      ['gemini', 'gemini'],
      ['deepseek', 'deepseek'],
      ['mistral', 'mistral'],
      ['groq', 'groq'],
      ['together', 'together'],
      ['xai', 'xai'],
    ]);
    expect(providers[0]).toEqual({ name: 'openai', type: 'openai', api_key: 'sk-o', catalog_models: true });
    expect(providers.every((p) => p.catalog_models === true)).toBe(true);
  });

  it('prefers GEMINI_API_KEY over GOOGLE_API_KEY and ignores empty values', () => {
    expect(providersFromEnv({ GEMINI_API_KEY: 'gem', GOOGLE_API_KEY: 'goo' })[0].api_key).toBe('gem');
    expect(providersFromEnv({ GEMINI_API_KEY: '', GOOGLE_API_KEY: 'goo' })[0].api_key).toBe('goo');
    expect(providersFromEnv({ OPENAI_API_KEY: '' })).toEqual([]);
  });

  it('honours OPENAI_BASE_URL and ANTHROPIC_BASE_URL', () => {
    const providers = providersFromEnv({
      OPENAI_API_KEY: 'o',
      OPENAI_BASE_URL: 'http://127.0.0.1:9001/v1',
      ANTHROPIC_API_KEY: 'a',
      ANTHROPIC_BASE_URL: 'https://proxy.example/anthropic',
    });
    expect(providers.map((p) => p.base_url)).toEqual(['http://127.0.0.1:9001/v1', 'https://proxy.example/anthropic']);
  });

  it('ignores a base URL without its key and rejects a malformed one', () => {
    expect(providersFromEnv({ OPENAI_BASE_URL: 'http://x' })).toEqual([]);
    expect(() => providersFromEnv({ OPENAI_API_KEY: 'o', OPENAI_BASE_URL: 'ftp://x' })).toThrow(
      /environment: OPENAI_BASE_URL: must be an http\(s\) URL/,
    );
    expect(() => providersFromEnv({ OPENAI_API_KEY: 'o', OPENAI_BASE_URL: 'not a url' })).toThrow(ConfigError);
  });

  it('builds a bedrock provider from AWS credentials', () => {
    expect(providersFromEnv({ AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' })).toEqual([
      { name: 'bedrock', type: 'bedrock', region: 'us-east-1', aws_access_key_id: 'AKIA', aws_secret_access_key: 's', catalog_models: true },
    ]);
    const [withToken] = providersFromEnv({
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_SESSION_TOKEN: 'tok',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(withToken).toMatchObject({ region: 'eu-west-1', aws_session_token: 'tok' });
    expect(providersFromEnv({ AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 's', AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-west-1' })[0].region).toBe('us-west-2');
    expect(providersFromEnv({ AWS_ACCESS_KEY_ID: 'AKIA' })).toEqual([]);
  });
});

describe('mergeEnvProviders', () => {
  const yaml = `
providers:
  - { name: openai-main, type: openai, api_key: k }
  - { name: groq, type: openai-compatible, base_url: "http://127.0.0.1:9005/v1" }
models: []
`;

  it('adds environment providers unless one of the same name or type is configured', () => {
    const config = parseConfig(yaml, { env: {} });
    const merged = mergeEnvProviders(config, { OPENAI_API_KEY: 'env-o', GROQ_API_KEY: 'env-g', ANTHROPIC_API_KEY: 'env-a' });
    expect(merged.providers.map((p) => p.name)).toEqual(['openai-main', 'groq', 'anthropic']);
    expect(merged.providers[0].api_key).toBe('k');
    expect(config.providers).toHaveLength(2);
  });

  it('returns the same config when nothing is added', () => {
    const config = parseConfig(yaml, { env: {} });
    expect(mergeEnvProviders(config, {})).toBe(config);
  });

  it('lets deployments reference providers the environment enables', () => {
    const text = 'models:\n  - name: fast\n    deployments: [{ provider: anthropic, model: claude-haiku }]\n';
    expect(() => parseConfig(text, { env: {} })).toThrow(/:3: models\[0\]\.deployments\[0\]\.provider: unknown provider "anthropic"/);
    const env = { ANTHROPIC_API_KEY: 'a' };
    const merged = mergeEnvProviders(parseConfig(text, { env }), env);
    expect(merged.providers.map((p) => p.name)).toEqual(['anthropic']);
  });
});

describe('describeEnvProviders', () => {
  it('lists every variable that enables a provider', () => {
    const hints = describeEnvProviders();
    expect(hints.map((h) => h.enabledBy)).toEqual([
      'OPENAI_API_KEY',
      'ANTHROPIC_API_KEY',
      'GEMINI_API_KEY or GOOGLE_API_KEY',
      'DEEPSEEK_API_KEY',
      'MISTRAL_API_KEY',
      'GROQ_API_KEY',
      'TOGETHER_API_KEY',
      'XAI_API_KEY',
      'AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY',
    ]);
    expect(hints.find((h) => h.type === 'bedrock')?.optional).toEqual(['AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_DEFAULT_REGION']);
    expect(hints.find((h) => h.name === 'openai')?.optional).toEqual(['OPENAI_BASE_URL']);
  });
});
