// Default values of the configuration file, shared by the schema and the reference docs.

export const DEFAULT_CONFIG_SOURCE = 'switchyard.yaml';

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 4000,
  body_limit_mb: 20,
  request_timeout_ms: 600_000,
  first_token_timeout_ms: 60_000,
  log_level: 'info',
  client_headers_timeout_ms: 30_000,
  client_body_timeout_ms: 120_000,
  keep_alive_timeout_ms: 65_000,
  heap_growth_percent: 25,
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const DEFAULT_SQLITE_PATH = './.switchyard/switchyard.db';

export const MODEL_MODES = ['chat', 'embedding'] as const;

export const DEPLOYMENT_DEFAULTS = { weight: 1, priority: 0 } as const;

export const DEFAULT_BEDROCK_REGION = 'us-east-1';

