// The OpenAI-compatible family: one adapter, with each provider's differences declared here rather
// than in copies of the adapter.
import type { ProviderType } from '../types.ts';

export interface OpenAICompatQuirks {
  /** Used when the config gives no base_url. */
  defaultBaseUrl?: string;
  /** How the API key is presented. */
  auth: 'bearer' | 'api-key';
  /** Azure puts the deployment in the path and requires `api-version`. */
  pathStyle: 'standard' | 'azure';
  /** Field that carries the output cap upstream; `as-sent` keeps whichever the client used. */
  maxTokensField: 'as-sent' | 'max_tokens';
  /** Renamed request fields (e.g. Mistral's `random_seed`). */
  renames?: Readonly<Record<string, string>>;
  /** Request fields the provider rejects: a client that sets them gets a clear 400. */
  unsupported?: readonly string[];
  /** Request fields silently dropped because the provider errors on them and they change nothing essential. */
  dropped?: readonly string[];
  /** Provider honours `stream_options.include_usage`. */
  streamUsage: boolean;
}

const STANDARD: OpenAICompatQuirks = { auth: 'bearer', pathStyle: 'standard', maxTokensField: 'as-sent', streamUsage: true };

export const OPENAI_COMPAT_QUIRKS: Readonly<Partial<Record<ProviderType, OpenAICompatQuirks>>> = {
  openai: { ...STANDARD, defaultBaseUrl: 'https://api.openai.com/v1' },
  azure: { ...STANDARD, auth: 'api-key', pathStyle: 'azure' },
  deepseek: { ...STANDARD, defaultBaseUrl: 'https://api.deepseek.com', maxTokensField: 'max_tokens', unsupported: ['n', 'logit_bias'] },
  groq: { ...STANDARD, defaultBaseUrl: 'https://api.groq.com/openai/v1', unsupported: ['logprobs', 'top_logprobs', 'logit_bias'] },
  mistral: {
    ...STANDARD,
    defaultBaseUrl: 'https://api.mistral.ai/v1',
    maxTokensField: 'max_tokens',
    renames: { seed: 'random_seed' },
    unsupported: ['logit_bias', 'logprobs', 'top_logprobs'],
    dropped: ['user', 'metadata', 'reasoning_effort'],
  },
  together: { ...STANDARD, defaultBaseUrl: 'https://api.together.xyz/v1', maxTokensField: 'max_tokens' },
  fireworks: { ...STANDARD, defaultBaseUrl: 'https://api.fireworks.ai/inference/v1', maxTokensField: 'max_tokens' },
  xai: { ...STANDARD, defaultBaseUrl: 'https://api.x.ai/v1', unsupported: ['logit_bias'] },
  perplexity: {
    ...STANDARD,
    defaultBaseUrl: 'https://api.perplexity.ai',
    maxTokensField: 'max_tokens',
    unsupported: ['tools', 'tool_choice', 'n', 'logit_bias', 'logprobs'],
    dropped: ['user', 'parallel_tool_calls', 'seed'],
  },
  openrouter: { ...STANDARD, defaultBaseUrl: 'https://openrouter.ai/api/v1' },
  vllm: { ...STANDARD, defaultBaseUrl: 'http://127.0.0.1:8000/v1', maxTokensField: 'max_tokens' },
  ollama: { ...STANDARD, defaultBaseUrl: 'http://127.0.0.1:11434/v1', maxTokensField: 'max_tokens', dropped: ['user', 'parallel_tool_calls', 'metadata'] },
  lmstudio: { ...STANDARD, defaultBaseUrl: 'http://127.0.0.1:1234/v1', maxTokensField: 'max_tokens', dropped: ['user', 'metadata'] },
  'openai-compatible': { ...STANDARD, maxTokensField: 'max_tokens' },
};

export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export function quirksFor(type: ProviderType): OpenAICompatQuirks {
  const quirks = OPENAI_COMPAT_QUIRKS[type];
  if (!quirks) throw new Error(`provider type ${type} is not in the OpenAI-compatible family`);
  return quirks;
}

/** True when the body can go upstream unchanged apart from the model (the same-dialect fast path). */
export function isPlainOpenAI(quirks: OpenAICompatQuirks): boolean {
  return quirks.maxTokensField === 'as-sent' && !quirks.renames && !quirks.dropped;
}
