// Gemini wire format: Google AI Studio (`type: gemini`, API key) and Vertex AI (`type: vertex`, bearer
// access token supplied by config; the adapter does not mint or refresh tokens).
import type { ProviderAdapter } from '../types.ts';
import { embeddingsRequest, embeddingsResponse } from './embeddings.ts';
import { geminiError } from './errors.ts';
import { chatRequest } from './request.ts';
import { chatResponse } from './response.ts';
import { GeminiStreamDecoder } from './stream.ts';

export const geminiAdapter: ProviderAdapter = {
  wireFormat: 'gemini',
  chatRequest,
  chatResponse,
  chatStream: (target, req) => new GeminiStreamDecoder(target, req),
  embeddingsRequest,
  embeddingsResponse,
  error: geminiError,
};
