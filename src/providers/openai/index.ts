// The OpenAI adapter, which also serves the OpenAI-compatible family through its quirks table.
import { unchangedBody } from '../passthrough-body.ts';
import type { ProviderAdapter } from '../types.ts';
import { openaiError } from './errors.ts';
import { chatRequest, embeddingsRequest, prepareChatBody, requestFor } from './request.ts';
import { chatResponse, embeddingsResponse, readUsage } from './response.ts';
import { OpenAIPassthroughObserver, openaiStreamDecoder } from './stream.ts';

export const openaiAdapter: ProviderAdapter = {
  wireFormat: 'openai',
  chatRequest,
  chatResponse,
  chatStream: openaiStreamDecoder,
  embeddingsRequest,
  embeddingsResponse,
  error: openaiError,
  passthrough: {
    chatRequest(body, target, stream, clientBytes) {
      const prepared = prepareChatBody({ ...body }, target, stream);
      return requestFor(target, 'chat/completions', clientBytes && unchangedBody(prepared, body) ? clientBytes : prepared);
    },
    responseUsage: readUsage,
    streamObserver(target, clientWantsUsage) {
      return new OpenAIPassthroughObserver(target.endpoint.name, clientWantsUsage);
    },
  },
};
