// The Amazon Bedrock adapter: Converse / ConverseStream for chat, InvokeModel (Titan) for embeddings,
// SigV4 or Bedrock API key authentication.
import type { ProviderAdapter } from '../types.ts';
import { bedrockError } from './errors.ts';
import { chatRequest, embeddingsRequest } from './request.ts';
import { chatResponse, embeddingsResponse } from './response.ts';
import { bedrockStreamDecoder } from './stream.ts';

export { JSON_TOOL_NAME } from './request.ts';

export const bedrockAdapter: ProviderAdapter = {
  wireFormat: 'bedrock',
  chatRequest,
  chatResponse,
  chatStream: bedrockStreamDecoder,
  embeddingsRequest,
  embeddingsResponse,
  error: bedrockError,
};
