import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config/index.ts';

describe('usage and observability configuration', () => {
  it('has defaults when absent', () => {
    const config = parseConfig('{}');
    expect(config.usage).toMatchObject({ retention_days: 30, queue_max: 100_000, body_logging: { all_teams: false, max_bytes: 16_384 }, teams: {} });
    expect(config.observability).toMatchObject({ metrics: { enabled: true }, tracing: { service_name: 'switchyard', sample_ratio: 1 } });
    expect(config.observability.tracing.otlp_endpoint).toBeUndefined();
  });

  it('names the bad field', () => {
    expect(() => parseConfig('usage: { retention_days: -1 }')).toThrow(ConfigError);
    expect(() => parseConfig('usage: { teams: { research: { log_body: true } } }')).toThrow(/log_body/);
    expect(() => parseConfig('observability: { tracing: { otlp_endpoint: "ftp://x" } }')).toThrow(/otlp_endpoint/);
  });
});
