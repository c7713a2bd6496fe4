import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { loadConfig, parseConfig } from './load.ts';

const EXAMPLE = `server: { host: 127.0.0.1, port: 4000, master_key: "\${SWITCHYARD_MASTER_KEY}" }
storage: { sqlite: ./.switchyard/switchyard.db }      # or postgres: URL, redis: URL
providers:
  - { name: openai-main, type: openai, base_url: "http://127.0.0.1:9001/v1", api_key: "\${OPENAI_API_KEY}" }
  - { name: claude, type: anthropic, base_url: "http://127.0.0.1:9002", api_key: "\${ANTHROPIC_API_KEY}" }
models:
  - name: gpt-4o-mini                 # the name clients send
    deployments:
      - { provider: openai-main, model: gpt-4o-mini, weight: 1, rpm: 10000, tpm: 2000000 }
  - name: claude-sonnet-4
    deployments: [ { provider: claude, model: claude-sonnet-4-20250514 } ]
  - name: my-finetune                 # not in the catalog: price and limits declared here
    deployments:
      - { provider: openai-main, model: ft:gpt-4o-mini:acme, price: { input_per_mtok: 0.3, output_per_mtok: 1.2 } }
`;

const ENV = { SWITCHYARD_MASTER_KEY: 'sk-master', OPENAI_API_KEY: 'sk-openai', ANTHROPIC_API_KEY: 'sk-ant' };

function issuesOf(text: string, env: Record<string, string> = {}): ConfigIssue[] {
  try {
    parseConfig(text, { env, sourceName: 'switchyard.yaml' });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

function errorOf(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(text, { env, sourceName: 'switchyard.yaml' });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const PROVIDERS = 'providers:\n  - { name: p, type: openai }\n';

describe('parseConfig: valid configuration', () => {
  it('parses the example with defaults applied', () => {
    const config = parseConfig(EXAMPLE, { env: ENV });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 4000,
      master_key: 'sk-master',
      body_limit_mb: 20,
      request_timeout_ms: 600_000,
      first_token_timeout_ms: 60_000,
      log_level: 'info',
      client_headers_timeout_ms: 30_000,
      client_body_timeout_ms: 120_000,
      heap_growth_percent: 25,
      keep_alive_timeout_ms: 65_000,
    });
    expect(config.storage).toEqual({ sqlite: './.switchyard/switchyard.db' });
    expect(config.providers).toEqual([
      { name: 'openai-main', type: 'openai', base_url: 'http://127.0.0.1:9001/v1', api_key: 'sk-openai' },
      { name: 'claude', type: 'anthropic', base_url: 'http://127.0.0.1:9002', api_key: 'sk-ant' },
    ]);
    expect(config.models.map((m) => m.name)).toEqual(['gpt-4o-mini', 'claude-sonnet-4', 'my-finetune']);
    expect(config.models[0]).toEqual({
      name: 'gpt-4o-mini',
      mode: 'chat',
      deployments: [{ provider: 'openai-main', model: 'gpt-4o-mini', weight: 1, priority: 0, rpm: 10000, tpm: 2000000 }],
    });
    expect(config.models[1].deployments[0]).toEqual({ provider: 'claude', model: 'claude-sonnet-4-20250514', weight: 1, priority: 0 });
    expect(config.models[2].deployments[0].price).toEqual({ input_per_mtok: 0.3, output_per_mtok: 1.2 });
  });

  it('omits fields whose variables are unset', () => {
    const config = parseConfig(EXAMPLE, { env: {} });
    expect(config.server.master_key).toBeUndefined();
    expect('master_key' in config.server).toBe(false);
    expect(config.providers[0].api_key).toBeUndefined();
  });

  it('keeps secrets with YAML-significant characters intact', () => {
    const secret = `a"b'c: d #e\n- f: {g} [h] \${NOT} &i *j`;
    const config = parseConfig(EXAMPLE, { env: { ...ENV, OPENAI_API_KEY: secret } });
    expect(config.providers[0].api_key).toBe(secret);
  });

  it('accepts an empty file', () => {
    const config = parseConfig('# nothing yet\n', { env: {} });
    expect(config.providers).toEqual([]);
    expect(config.models).toEqual([]);
    expect(config.server.port).toBe(4000);
    expect(config.storage.sqlite).toBe('./.switchyard/switchyard.db');
  });

  it('accepts every documented field', () => {
    const text = `
server: { host: 0.0.0.0, port: 8080, body_limit_mb: 5.5, request_timeout_ms: 1000, first_token_timeout_ms: 500, log_level: debug }
storage: { sqlite: /var/lib/s.db, postgres: "postgresql://u:p@db:5432/switchyard", redis: "redis://cache:6379/0" }
providers:
  - name: az.east_1
    type: azure
    base_url: https://acme.openai.azure.com
    api_key: k
    api_version: 2024-10-21
    headers: { X-Team: core, "x.trace": "1" }
    timeout_ms: 30000
  - { name: br, type: bedrock, region: us-west-2, aws_access_key_id: A, aws_secret_access_key: S, aws_session_token: T }
  - { name: vx, type: vertex, project: p, location: us-central1, region: us-central1 }
  - { name: local, type: openai-compatible, base_url: "http://localhost:8000/v1", catalog_models: false }
models:
  - name: gpt-4o
    aliases: [gpt4o, default]
    fallbacks: [claude]
    deployments:
      - provider: az.east_1
        model: gpt-4o-prod
        weight: 0.5
        priority: -1
        region: eastus
        context_window: 128000
        max_output_tokens: 16384
        capabilities: { tools: true, vision: true, json: true, reasoning: false }
        price: { input_per_mtok: 2.5, output_per_mtok: 10, cached_input_per_mtok: 1.25, cache_write_per_mtok: 0 }
  - name: claude
    deployments: [{ provider: br, model: anthropic.claude-sonnet-4 }]
  - name: embed
    mode: embedding
    deployments: [{ provider: local, model: bge-m3 }]
teams: [{ name: a, budget: { max_usd: 100, period: monthly } }]
keys: [{ name: bot, team: a, key: sk-sy-0123456789abcdef, models: ['*-mini'], limits: { rpm: 60 } }]
routing: { strategy: latency, balancer: p2c, retries: { max_retries: 1 }, failover: { content_policy: next_group } }
governance: { timezone: Europe/Berlin }
usage: { retention_days: 14, baseline_model: gpt-4o, body_logging: { max_bytes: 4096 }, teams: { a: { log_bodies: true } } }
observability: { metrics: { bearer_token: scrape-me }, tracing: { otlp_endpoint: "http://otel:4318", sample_ratio: 0.5 } }
cache: { enabled: true }
`;
    const config = parseConfig(text, { env: {} });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 8080, body_limit_mb: 5.5, log_level: 'debug' });
    expect(config.storage.postgres).toBe('postgresql://u:p@db:5432/switchyard');
    expect(config.providers[0]).toMatchObject({ api_version: '2024-10-21', headers: { 'X-Team': 'core', 'x.trace': '1' } });
    expect(config.models[0].deployments[0]).toMatchObject({ weight: 0.5, priority: -1, capabilities: { tools: true } });
    expect(config.models[2].mode).toBe('embedding');
    expect(config.routing).toMatchObject({ strategy: 'latency', balancer: 'p2c', failover: { content_policy: 'next_group' } });
    expect(config.routing.retries).toMatchObject({ max_retries: 1, base_delay_ms: 100 });
    expect(config.teams[0].budget).toMatchObject({ max_usd: 100, period: 'monthly', hard: true });
    expect(config.usage).toMatchObject({ retention_days: 14, baseline_model: 'gpt-4o', body_logging: { max_bytes: 4096, all_teams: false }, teams: { a: { log_bodies: true } } });
    expect(config.observability).toMatchObject({ metrics: { enabled: true, bearer_token: 'scrape-me' }, tracing: { otlp_endpoint: 'http://otel:4318', sample_ratio: 0.5 } });
    expect(config.keys[0]).toMatchObject({ name: 'bot', team: 'a', scope: 'inference', limits: { rpm: 60 } });
    expect(config.governance.timezone).toBe('Europe/Berlin');
  });

  it('names a bad routing strategy with its line', () => {
    expect(() => parseConfig('routing:\n  strategy: fastest\n', { env: {} })).toThrowError(/switchyard\.yaml:2: routing\.strategy/);
  });

  it('converts interpolated values where the schema wants numbers or booleans', () => {
    const text = `server:\n  port: \${PORT}\n  body_limit_mb: "\${LIMIT:-2.5}"\n${PROVIDERS}  - { name: q, type: openai, api_key: "\${KEY}", catalog_models: "\${CATALOG}" }\n`;
    const config = parseConfig(text, { env: { PORT: '5000', KEY: '123456', CATALOG: 'true' } });
    expect(config.server.port).toBe(5000);
    expect(config.server.body_limit_mb).toBe(2.5);
    expect(config.providers[1].api_key).toBe('123456');
    expect(config.providers[1].catalog_models).toBe(true);
  });

  it('does not convert literal strings', () => {
    expect(issuesOf('server:\n  port: "4000"\n')).toEqual([{ path: 'server.port', line: 2, message: 'expected a number, got a string' }]);
  });

  it('supports YAML merge keys', () => {
    const text = `${PROVIDERS}x-base: &base { provider: p, rpm: 10 }\nmodels: []\n`;
    expect(issuesOf(text)).toEqual([{ path: 'x-base', line: 3, message: expect.stringContaining('unknown field') }]);
    const ok = `${PROVIDERS}models:\n  - name: a\n    deployments:\n      - &d { provider: p, model: m1, rpm: 10 }\n      - { <<: *d, model: m2 }\n`;
    expect(parseConfig(ok, { env: {} }).models[0].deployments[1]).toMatchObject({ provider: 'p', model: 'm2', rpm: 10 });
  });
});

describe('parseConfig: errors name the path and the line', () => {
  it('reports an unknown provider in a deployment at its line', () => {
    const text = EXAMPLE.replace('{ provider: claude,', '{ provider: foo,');
    const error = errorOf(text, ENV);
    expect(error.issues).toEqual([{ path: 'models[1].deployments[0].provider', line: 11, message: 'unknown provider "foo"' }]);
    expect(error.message).toContain('switchyard.yaml:11: models[1].deployments[0].provider: unknown provider "foo"');
  });

  it('suggests a close provider name', () => {
    const text = EXAMPLE.replace('{ provider: claude,', '{ provider: cluade,');
    expect(issuesOf(text, ENV)[0].message).toBe('unknown provider "cluade" (did you mean "claude"?)');
  });

  it('reports reference problems together with unrelated field errors', () => {
    const text = `server: { port: x }
providers:
  - { name: p, type: openai, api_kye: k }
models:
  - { name: a, deployments: [{ provider: foo, model: m }] }
`;
    expect(issuesOf(text)).toEqual([
      { path: 'server.port', line: 1, message: 'expected a number, got a string' },
      { path: 'providers[0].api_kye', line: 3, message: 'unknown field (did you mean "api_key"?)' },
      { path: 'models[0].deployments[0].provider', line: 5, message: 'unknown provider "foo"' },
    ]);
  });

  it('reports a duplicate model name, also against aliases', () => {
    const text = `${PROVIDERS}models:
  - name: a
    aliases: [b]
    deployments: [{ provider: p, model: m }]
  - name: b
    deployments: [{ provider: p, model: m }]
  - name: a
    deployments: [{ provider: p, model: m }]
`;
    expect(issuesOf(text)).toEqual([
      { path: 'models[1].name', line: 7, message: 'duplicate model name "b" (already used by models[0].aliases[0])' },
      { path: 'models[2].name', line: 9, message: 'duplicate model name "a" (already used by models[0].name)' },
    ]);
  });

  it('reports a duplicate provider name', () => {
    expect(issuesOf('providers:\n  - { name: p, type: openai }\n  - { name: p, type: groq }\n')).toEqual([
      { path: 'providers[1].name', line: 3, message: 'duplicate provider name "p" (first defined at providers[0])' },
    ]);
  });

  it('reports a typo in a field name with a suggestion', () => {
    const text = `${PROVIDERS}models:\n  - name: a\n    deploymnets:\n      - { provider: p, model: m }\n`;
    const error = errorOf(text);
    expect(error.issues).toEqual([
      { path: 'models[0].deployments', line: 4, message: 'required' },
      { path: 'models[0].deploymnets', line: 5, message: 'unknown field (did you mean "deployments"?)' },
    ]);
    expect(error.message).toContain('switchyard.yaml:5: models[0].deploymnets: unknown field (did you mean "deployments"?)');
  });

  it('reports an unknown top-level key', () => {
    expect(issuesOf('\nprovider: []\n')).toEqual([{ path: 'provider', line: 2, message: 'unknown field (did you mean "providers"?)' }]);
  });

  it('lists the accepted fields when no suggestion is close', () => {
    expect(issuesOf('storage:\n  mongodb: x\n')[0].message).toBe('unknown field (expected one of: sqlite, postgres, redis)');
  });

  it('reports a wrong type', () => {
    const error = errorOf('server:\n  host: localhost\n  port: "abc"\n');
    expect(error.issues).toEqual([{ path: 'server.port', line: 3, message: 'expected a number, got a string' }]);
    expect(error.message).toMatch(/^switchyard\.yaml:3: server\.port: expected a number, got a string$/m);
  });

  it('reports out-of-range and invalid values', () => {
    const text = `server: { port: 70000, log_level: verbose }
providers:
  - { name: "bad name", type: antropic }
  - { name: b, type: openai, base_url: "ftp://x" }
`;
    const issues = issuesOf(text);
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['server.port', 1],
      ['server.log_level', 1],
      ['providers[0].name', 3],
      ['providers[0].type', 3],
      ['providers[1].base_url', 4],
    ]);
    expect(issues[3].message).toContain('did you mean "anthropic"?');
    expect(issues[4].message).toBe('must be a http(s) URL');
  });

  it('requires base_url for azure and openai-compatible, region for bedrock', () => {
    const text = `providers:
  - { name: a, type: azure }
  - { name: c, type: openai-compatible }
  - { name: b, type: bedrock }
  - { name: b2, type: bedrock, base_url: "https://bedrock-runtime.example" }
`;
    expect(issuesOf(text)).toEqual([
      { path: 'providers[0].base_url', line: 2, message: 'required for provider type "azure"' },
      { path: 'providers[1].base_url', line: 3, message: 'required for provider type "openai-compatible"' },
      { path: 'providers[2].region', line: 4, message: 'required for provider type "bedrock" unless base_url is set' },
    ]);
  });

  it('checks fallbacks', () => {
    const text = `${PROVIDERS}models:
  - { name: a, fallbacks: [zzz, a, e], deployments: [{ provider: p, model: m }] }
  - { name: e, mode: embedding, deployments: [{ provider: p, model: m }] }
  - { name: b, fallbacks: [alias-of-a], deployments: [{ provider: p, model: m }] }
  - { name: c, aliases: [alias-of-a], deployments: [{ provider: p, model: m }] }
`;
    expect(issuesOf(text)).toEqual([
      { path: 'models[0].fallbacks[0]', line: 4, message: 'unknown model group "zzz"' },
      { path: 'models[0].fallbacks[1]', line: 4, message: 'model group "a" cannot fall back to itself' },
      { path: 'models[0].fallbacks[2]', line: 4, message: 'fallback "e" is a embedding model group, "a" is chat' },
    ]);
  });

  it('requires at least one deployment and valid deployment numbers', () => {
    const text = `${PROVIDERS}models:
  - name: a
    deployments: []
  - name: b
    deployments:
      - provider: p
        model: m
        weight: 0
        rpm: 1.5
        price: { input_per_mtok: -1 }
`;
    expect(issuesOf(text).map((i) => [i.path, i.line, i.message])).toEqual([
      ['models[0].deployments', 5, 'needs at least one deployment'],
      ['models[1].deployments[0].weight', 10, expect.stringContaining('>0')],
      ['models[1].deployments[0].rpm', 11, 'expected an integer, got a fractional number'],
      ['models[1].deployments[0].price.input_per_mtok', 12, expect.stringContaining('>=0')],
      ['models[1].deployments[0].price.output_per_mtok', 12, 'required'],
    ]);
  });

  it('names the unset variable when a required field ends up unset', () => {
    const text = `${PROVIDERS}models:\n  - name: a\n    deployments: [{ provider: p, model: "\${DEPLOYMENT_MODEL}" }]\n`;
    expect(issuesOf(text)).toEqual([
      { path: 'models[0].deployments[0].model', line: 5, message: 'required (environment variable DEPLOYMENT_MODEL is not set)' },
    ]);
  });

  it('reports malformed variable references', () => {
    expect(issuesOf('server:\n  master_key: "${MASTER KEY}"\n')).toEqual([
      { path: 'server.master_key', line: 2, message: expect.stringContaining('invalid variable reference "${MASTER KEY}"') },
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const error = errorOf('server:\n  port: 4000\n  host: [unclosed\nmodels: []\n');
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues[0].line).toBeGreaterThanOrEqual(3);
    expect(error.issues[0].message).toMatch(/^YAML syntax error: /);
    expect(error.message).toMatch(/switchyard\.yaml:\d+: YAML syntax error: /);
  });

  it('reports duplicate keys as YAML errors', () => {
    const [issue] = issuesOf('server:\n  port: 1\n  port: 2\n');
    expect(issue).toMatchObject({ line: 3, message: expect.stringContaining('YAML syntax error') });
  });

  it('reports a document that is not a mapping', () => {
    expect(issuesOf('- a\n- b\n')).toEqual([{ path: '', line: 1, message: 'expected a mapping, got a list' }]);
  });

  it('lists every issue in the message, one per line', () => {
    const error = errorOf('server:\n  port: x\n  hots: y\n');
    expect(error.message.split('\n')).toEqual([
      'invalid configuration (2 problems):',
      'switchyard.yaml:2: server.port: expected a number, got a string',
      'switchyard.yaml:3: server.hots: unknown field (did you mean "host"?)',
    ]);
    expect(error.name).toBe('ConfigError');
    expect(error).toBeInstanceOf(Error);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file and names it in errors', () => {
    const good = join(dir, 'switchyard.yaml');
    writeFileSync(good, EXAMPLE);
    expect(loadConfig(good, ENV).server.master_key).toBe('sk-master');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server:\n  port: abc\n');
    expect(() => loadConfig(bad, {})).toThrow(`${bad}:2: server.port: expected a number, got a string`);
  });

  it('turns a missing file into a ConfigError', () => {
    const missing = join(dir, 'missing.yaml');
    expect(() => loadConfig(missing, {})).toThrow(ConfigError);
    expect(() => loadConfig(missing, {})).toThrow(/cannot read configuration file/);
  });
});
