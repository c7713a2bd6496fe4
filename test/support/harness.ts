// An in-process gateway in front of one simulator per wire format, wired through a real YAML config:
// every adapter → simulator pair the gateway supports.
import { parseConfig } from '../../src/config/index.ts';
import { Gateway } from '../../src/server/gateway.ts';
import { createSimulator, type SimFormatName, type SimServer } from '../../src/sim/index.ts';
import type { SimKnobs } from '../../src/sim/server.ts';
import type { UsageRecord, UsageSink } from '../../src/usage/record.ts';

export const MASTER_KEY = 'sk-sy-test-master';
export const PROVIDER_KEY = 'sim-secret';

export class MemoryUsageSink implements UsageSink {
  readonly records: UsageRecord[] = [];
  record(record: UsageRecord): void {
    this.records.push(record);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  find(requestId: string | null): UsageRecord | undefined {
    return this.records.find((r) => r.requestId === requestId);
  }
}

export interface Harness {
  url: string;
  gateway: Gateway;
  sims: Record<SimFormatName, SimServer>;
  usage: MemoryUsageSink;
  close(): Promise<void>;
}

/** Chat model groups, one per adapter → simulator pair. */
export const CHAT_MODELS = {
  openai: 'gpt-4o-mini',
  azure: 'azure-gpt-4o',
  deepseek: 'deepseek-chat',
  anthropic: 'claude-sonnet-4',
  gemini: 'gemini-2.5-flash',
  vertex: 'vertex-gemini',
  bedrock: 'bedrock-claude',
} as const;

export const EMBEDDING_MODELS = {
  openai: 'text-embedding-3-small',
  gemini: 'gemini-embedding',
  bedrock: 'titan-embed',
} as const;

function yaml(urls: Record<SimFormatName, string>, extra: string, routing: string): string {
  return `
${routing}
server: { master_key: "\${TEST_MASTER_KEY}", body_limit_mb: 1, first_token_timeout_ms: 3000, request_timeout_ms: 10000 }
storage: { sqlite: ":memory:" }
providers:
  - { name: openai-main, type: openai, base_url: "${urls.openai}/v1", api_key: "\${TEST_PROVIDER_KEY}" }
  - { name: azure-east, type: azure, base_url: "${urls.openai}", api_key: "\${TEST_PROVIDER_KEY}", api_version: "2024-10-21" }
  - { name: deepseek, type: deepseek, base_url: "${urls.openai}/v1", api_key: "\${TEST_PROVIDER_KEY}" }
  - { name: claude, type: anthropic, base_url: "${urls.anthropic}", api_key: "\${TEST_PROVIDER_KEY}" }
  - { name: gemini, type: gemini, base_url: "${urls.gemini}", api_key: "\${TEST_PROVIDER_KEY}" }
  - { name: vertex, type: vertex, base_url: "${urls.gemini}", api_key: "\${TEST_PROVIDER_KEY}", project: demo, location: us-central1 }
  - { name: bedrock, type: bedrock, base_url: "${urls.bedrock}", region: us-east-1, aws_access_key_id: AKIDTEST, aws_secret_access_key: "\${TEST_PROVIDER_KEY}" }
models:
  - name: gpt-4o-mini
    deployments: [ { provider: openai-main, model: gpt-4o-mini } ]
  - name: azure-gpt-4o
    deployments: [ { provider: azure-east, model: gpt-4o } ]
  - name: deepseek-chat
    deployments: [ { provider: deepseek, model: deepseek-chat } ]
  - name: claude-sonnet-4
    deployments: [ { provider: claude, model: claude-sonnet-4-20250514 } ]
  - name: gemini-2.5-flash
    deployments: [ { provider: gemini, model: gemini-2.5-flash } ]
  - name: vertex-gemini
    deployments: [ { provider: vertex, model: gemini-2.5-pro } ]
  - name: bedrock-claude
    deployments: [ { provider: bedrock, model: anthropic.claude-sonnet-4-5-20250929-v1:0 } ]
  - name: text-embedding-3-small
    mode: embedding
    deployments: [ { provider: openai-main, model: text-embedding-3-small } ]
  - name: gemini-embedding
    mode: embedding
    deployments: [ { provider: gemini, model: text-embedding-004 } ]
  - name: titan-embed
    mode: embedding
    deployments: [ { provider: bedrock, model: amazon.titan-embed-text-v2:0 } ]
  - name: hang-test
    timeouts: { first_token_ms: 300, total_ms: 5000 }
    deployments: [ { provider: gemini, model: gemini-2.5-flash } ]
  - name: total-timeout-test
    timeouts: { first_token_ms: 2000, total_ms: 700 }
    deployments: [ { provider: gemini, model: gemini-2.5-flash } ]
  - name: my-finetune
    deployments:
      - { provider: openai-main, model: "ft:gpt-4o-mini:acme", price: { input_per_mtok: 0.3, output_per_mtok: 1.2 } }
${extra}`;
}

export async function startHarness(options: { knobs?: Partial<SimKnobs>; extraModels?: string; routing?: string } = {}): Promise<Harness> {
  const formats: SimFormatName[] = ['openai', 'anthropic', 'gemini', 'bedrock'];
  const sims = {} as Record<SimFormatName, SimServer>;
  const urls = {} as Record<SimFormatName, string>;
  for (const format of formats) {
    const sim = createSimulator(format, { apiKey: PROVIDER_KEY, outputTokens: 12, ...options.knobs });
    urls[format] = (await sim.listen()).url;
    sims[format] = sim;
  }
  const config = parseConfig(yaml(urls, options.extraModels ?? '', options.routing ?? ''), {
    env: { TEST_MASTER_KEY: MASTER_KEY, TEST_PROVIDER_KEY: PROVIDER_KEY },
    sourceName: 'harness.yaml',
  });
  const usage = new MemoryUsageSink();
  const gateway = new Gateway({ config, usageSink: usage });
  const { url } = await gateway.listen(0, '127.0.0.1');
  return {
    url,
    gateway,
    sims,
    usage,
    async close() {
      await gateway.close(1000);
      for (const sim of Object.values(sims)) await sim.close();
    },
  };
}
