// The gateway's structured JSON logger (pino) with secrets redacted wherever they may appear: headers
// of requests and upstream calls, provider credentials in config objects, keys and tokens in any
// nested object logged.
import { pino, type Logger, type LoggerOptions } from 'pino';

export const REDACT_PATHS: readonly string[] = [
  'authorization',
  'api_key',
  'apiKey',
  'master_key',
  'password',
  'secret',
  'token',
  'bearer_token',
  'aws_secret_access_key',
  'aws_session_token',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers["x-goog-api-key"]',
  'headers.cookie',
  '*.authorization',
  '*.api_key',
  '*.apiKey',
  '*.master_key',
  '*.password',
  '*.secret',
  '*.token',
  '*.bearer_token',
  '*.aws_secret_access_key',
  '*.aws_session_token',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers["api-key"]',
  '*.headers["x-goog-api-key"]',
  '*.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
];

export function createLogger(options: LoggerOptions = {}, destination?: pino.DestinationStream): Logger {
  const config: LoggerOptions = { level: 'info', ...options, redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' } };
  return destination ? pino(config, destination) : pino(config);
}
