// Embeddings. Google AI: one text → `:embedContent`, a list → `:batchEmbedContents`. Vertex AI: the
// text-embedding `:predict` call (text-embedding-00x, gemini-embedding-001), which also reports tokens.
import type { Embedding, EmbeddingsRequest, EmbeddingsResponse } from '../../core/canonical.ts';
import { GatewayError, badRequest } from '../../core/errors.ts';
import type { Target, UpstreamRequest } from '../types.ts';
import { geminiHeaders, googleModelName, modelPath } from './request.ts';
import type { GeminiBatchEmbedRequest, GeminiEmbedContentRequest, VertexPredictEmbedRequest } from './wire.ts';

function textInputs(req: EmbeddingsRequest): string[] {
  const input = req.input;
  if (typeof input === 'string') return [input];
  if (input.length === 0) throw badRequest("'input' must not be empty", 'input');
  const texts: string[] = [];
  for (const item of input) {
    if (typeof item !== 'string') throw badRequest('Gemini embeddings take text input, not token ids', 'input', 'unsupported_parameter');
    texts.push(item);
  }
  return texts;
}

export function embeddingsRequest(req: EmbeddingsRequest, target: Target): UpstreamRequest {
  const texts = textInputs(req);
  const headers = geminiHeaders(target);
  const dimensions = req.dimensions;
  if (target.endpoint.type === 'vertex') {
    const body: VertexPredictEmbedRequest = { instances: texts.map((content) => ({ content })) };
    if (dimensions !== undefined) body.parameters = { outputDimensionality: dimensions };
    return { method: 'POST', path: `${modelPath(target)}:predict`, headers, body: JSON.stringify(body) };
  }
  const one = (text: string, model?: string): GeminiEmbedContentRequest => {
    const request: GeminiEmbedContentRequest = model === undefined ? { content: { parts: [{ text }] } } : { model, content: { parts: [{ text }] } };
    if (dimensions !== undefined) request.outputDimensionality = dimensions;
    return request;
  };
  if (typeof req.input === 'string') {
    return { method: 'POST', path: `${modelPath(target)}:embedContent`, headers, body: JSON.stringify(one(texts[0])) };
  }
  const model = googleModelName(target.model);
  const body: GeminiBatchEmbedRequest = { requests: texts.map((text) => one(text, model)) };
  return { method: 'POST', path: `${modelPath(target)}:batchEmbedContents`, headers, body: JSON.stringify(body) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function vectorOf(value: unknown): number[] | undefined {
  if (!isRecord(value) || !Array.isArray(value.values)) return undefined;
  for (const x of value.values) if (typeof x !== 'number') return undefined;
  return value.values as number[];
}

interface Vectors {
  vectors: number[][];
  /** Token count when the API reports one (Vertex predict statistics). */
  tokens: number | undefined;
}

function readVectors(body: unknown): Vectors | undefined {
  if (!isRecord(body)) return undefined;
  const single = vectorOf(body.embedding);
  if (single) return { vectors: [single], tokens: undefined };
  const vectors: number[][] = [];
  if (Array.isArray(body.embeddings)) {
    for (const item of body.embeddings) {
      const vector = vectorOf(item);
      if (!vector) return undefined;
      vectors.push(vector);
    }
    return { vectors, tokens: undefined };
  }
  if (Array.isArray(body.predictions)) {
    let tokens: number | undefined = 0;
    for (const prediction of body.predictions) {
      const embeddings = isRecord(prediction) ? prediction.embeddings : undefined;
      const vector = vectorOf(embeddings);
      if (!vector || !isRecord(embeddings)) return undefined;
      vectors.push(vector);
      const stats = embeddings.statistics;
      const count = isRecord(stats) ? stats.token_count : undefined;
      tokens = tokens !== undefined && typeof count === 'number' ? tokens + count : undefined;
    }
    return { vectors, tokens };
  }
  return undefined;
}

/** Little-endian float32 bytes, base64: what OpenAI's `encoding_format: base64` returns. */
function toBase64(vector: number[]): string {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

export function embeddingsResponse(body: unknown, target: Target, req: EmbeddingsRequest): EmbeddingsResponse {
  const provider = target.endpoint.name;
  const texts = textInputs(req);
  const read = readVectors(body);
  if (!read || read.vectors.length !== texts.length) {
    throw new GatewayError('upstream', `${provider}: malformed Gemini embeddings response`, { provider, code: 'malformed_response' });
  }
  const base64 = req.encoding_format === 'base64';
  const data: Embedding[] = read.vectors.map((vector, index) => ({ object: 'embedding', index, embedding: base64 ? toBase64(vector) : vector }));
  let tokens = read.tokens;
  if (tokens === undefined) {
    // Google AI's embed calls report no token count: estimate one token per four characters.
    tokens = 0;
    for (const text of texts) tokens += Math.ceil(text.length / 4);
  }
  return { object: 'list', data, model: target.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
