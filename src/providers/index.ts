// Which adapter speaks to which provider type.
import { anthropicAdapter } from './anthropic/index.ts';
import { bedrockAdapter } from './bedrock/index.ts';
import { geminiAdapter } from './gemini/index.ts';
import { openaiAdapter } from './openai/index.ts';
import { OPENAI_COMPAT_QUIRKS } from './openai/quirks.ts';
import type { ProviderAdapter, ProviderType } from './types.ts';

export function adapterFor(type: ProviderType): ProviderAdapter {
  if (type === 'anthropic') return anthropicAdapter;
  if (type === 'gemini' || type === 'vertex') return geminiAdapter;
  if (type === 'bedrock') return bedrockAdapter;
  return openaiAdapter;
}

export interface EndpointLocation {
  region?: string;
  location?: string;
}

/** The provider's public endpoint when the config names none. */
export function defaultBaseUrl(type: ProviderType, where: EndpointLocation): string | undefined {
  switch (type) {
    case 'anthropic':
      return 'https://api.anthropic.com';
    case 'gemini':
      return 'https://generativelanguage.googleapis.com';
    case 'vertex': {
      const location = where.location ?? 'us-central1';
      return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
    }
    case 'bedrock':
      return `https://bedrock-runtime.${where.region ?? 'us-east-1'}.amazonaws.com`;
    default:
      return OPENAI_COMPAT_QUIRKS[type]?.defaultBaseUrl;
  }
}
