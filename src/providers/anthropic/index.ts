// Anthropic Messages API adapter (wire format `anthropic`). Anthropic has no embeddings endpoint.
import type { ProviderAdapter } from '../types.ts';
import { anthropicError } from './errors.ts';
import { buildChatRequest, passthroughChatRequest } from './request.ts';
import { responseUsage, translateResponse } from './response.ts';
import { AnthropicPassthroughObserver, AnthropicStreamDecoder } from './stream.ts';

export const anthropicAdapter: ProviderAdapter = {
  wireFormat: 'anthropic',
  chatRequest: buildChatRequest,
  chatResponse: translateResponse,
  chatStream: (target) => new AnthropicStreamDecoder(target),
  passthrough: {
    chatRequest: passthroughChatRequest,
    responseUsage,
    // Anthropic always streams usage, so nothing is stripped whatever the client asked for.
    streamObserver: (target) => new AnthropicPassthroughObserver(target),
  },
  error: anthropicError,
};
