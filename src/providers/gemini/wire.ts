// Gemini wire shapes (Google AI `v1beta` and Vertex AI `v1` share them): generateContent requests and
// responses, the error envelope and the embedding calls. Only the fields the gateway reads or writes.
import type { JsonObject, JsonValue } from '../../core/canonical.ts';

export interface GeminiFunctionCall {
  id?: string;
  name: string;
  args?: JsonObject;
}

export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  response: JsonObject;
}

export interface GeminiPart {
  text?: string;
  /** Marks a thought-summary part (returned when `thinkingConfig.includeThoughts` is on). */
  thought?: boolean;
  /** Opaque signature Gemini 3 requires back on the first functionCall part of a turn. */
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
}

export type GeminiRole = 'user' | 'model';

export interface GeminiContent {
  role?: GeminiRole;
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: JsonObject;
}

export interface GeminiTool {
  functionDeclarations: GeminiFunctionDeclaration[];
}

export type GeminiFunctionCallingMode = 'AUTO' | 'ANY' | 'NONE';

export interface GeminiToolConfig {
  functionCallingConfig: { mode: GeminiFunctionCallingMode; allowedFunctionNames?: string[] };
}

export interface GeminiThinkingConfig {
  thinkingBudget?: number;
  includeThoughts?: boolean;
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseSchema?: JsonObject;
  thinkingConfig?: GeminiThinkingConfig;
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: GeminiPart[] };
  tools?: GeminiTool[];
  toolConfig?: GeminiToolConfig;
  generationConfig?: GeminiGenerationConfig;
  /** An explicit context cache, `cachedContents/{id}` (from the OpenAI-dialect `cached_content` extension). */
  cachedContent?: string;
}

export interface GeminiUsageMetadata {
  /** Whole prompt, cached part included. */
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  /** Visible output only; thinking is counted separately. */
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
}

export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  finishMessage?: string;
  index?: number;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string; blockReasonMessage?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

export interface GeminiErrorDetail {
  '@type'?: string;
  reason?: string;
  retryDelay?: string;
  [key: string]: JsonValue | undefined;
}

export interface GeminiErrorBody {
  error: { code: number; message: string; status: string; details?: GeminiErrorDetail[] };
}

/** `:embedContent` request; `:batchEmbedContents` wraps these (each with `model`) in `requests`. */
export interface GeminiEmbedContentRequest {
  model?: string;
  content: { parts: Array<{ text: string }> };
  outputDimensionality?: number;
}

export interface GeminiBatchEmbedRequest {
  requests: GeminiEmbedContentRequest[];
}

/** Vertex AI text-embedding `:predict` request. */
export interface VertexPredictEmbedRequest {
  instances: Array<{ content: string }>;
  parameters?: { outputDimensionality?: number };
}

export const GEMINI_STATUS_BY_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};
