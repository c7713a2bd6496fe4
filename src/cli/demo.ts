// `npm start` with no provider credentials: built-in simulators for every wire format, and model
// groups pointing at them, so the gateway works out of the box.
import type { ModelGroupConfig, ProviderConfig } from '../config/schema.ts';
import { createSimulator, type SimFormatName, type SimServer } from '../sim/index.ts';

export interface DemoProviders {
  simulators: SimServer[];
  providers: ProviderConfig[];
  models: ModelGroupConfig[];
}

const DEMO_KEY = 'sim-key';

const DEMO_MODELS: Array<{ name: string; format: SimFormatName; model: string; mode?: 'embedding' }> = [
  { name: 'gpt-4o-mini', format: 'openai', model: 'gpt-4o-mini' },
  { name: 'gpt-4o', format: 'openai', model: 'gpt-4o' },
  { name: 'text-embedding-3-small', format: 'openai', model: 'text-embedding-3-small', mode: 'embedding' },
  { name: 'claude-sonnet-4-5', format: 'anthropic', model: 'claude-sonnet-4-5-20250929' },
  { name: 'claude-haiku-4-5', format: 'anthropic', model: 'claude-haiku-4-5-20251001' },
  { name: 'gemini-2.5-flash', format: 'gemini', model: 'gemini-2.5-flash' },
  { name: 'gemini-2.5-pro', format: 'gemini', model: 'gemini-2.5-pro' },
  { name: 'gemini-embedding-001', format: 'gemini', model: 'gemini-embedding-001', mode: 'embedding' },
  { name: 'nova-lite', format: 'bedrock', model: 'amazon.nova-lite-v1:0' },
];

const PROVIDER_OF: Record<SimFormatName, (url: string) => ProviderConfig> = {
  openai: (url) => ({ name: 'sim-openai', type: 'openai', base_url: `${url}/v1`, api_key: DEMO_KEY }),
  anthropic: (url) => ({ name: 'sim-anthropic', type: 'anthropic', base_url: url, api_key: DEMO_KEY }),
  gemini: (url) => ({ name: 'sim-gemini', type: 'gemini', base_url: url, api_key: DEMO_KEY }),
  bedrock: (url) => ({
    name: 'sim-bedrock',
    type: 'bedrock',
    base_url: url,
    region: 'us-east-1',
    aws_access_key_id: 'AKIDSIMULATOR',
    aws_secret_access_key: DEMO_KEY,
  }),
};

export async function startDemoProviders(host = '127.0.0.1'): Promise<DemoProviders> {
  const simulators: SimServer[] = [];
  const providers: ProviderConfig[] = [];
  const urls = new Map<SimFormatName, string>();
  for (const format of Object.keys(PROVIDER_OF) as SimFormatName[]) {
    const sim = createSimulator(format, { ttftMs: 20, tokensPerSecond: 200, outputTokens: 24 });
    const { url } = await sim.listen(0, host);
    simulators.push(sim);
    urls.set(format, url);
    providers.push(PROVIDER_OF[format](url));
  }
  const models: ModelGroupConfig[] = DEMO_MODELS.map((m) => ({
    name: m.name,
    mode: m.mode ?? 'chat',
    deployments: [{ provider: `sim-${m.format}`, model: m.model, weight: 1, priority: 0 }],
  }));
  return { simulators, providers, models };
}
