// Bedrock Runtime wire shapes: the Converse / ConverseStream JSON bodies and events, and the Titan
// embeddings InvokeModel body. Shared by the adapter and the simulator.
import type { JsonObject, JsonValue } from '../../core/canonical.ts';

export type ConverseRole = 'user' | 'assistant';
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

export interface CachePoint {
  type: 'default';
  ttl?: '5m' | '1h';
}

export type ToolResultContent = { json: JsonValue } | { text: string };

export interface ToolUse {
  toolUseId: string;
  name: string;
  input: JsonValue;
}

export interface ReasoningText {
  text: string;
  signature?: string;
}

export type ContentBlock =
  | { text: string }
  | { image: { format: ImageFormat; source: { bytes: string } } }
  | { toolUse: ToolUse }
  | { toolResult: { toolUseId: string; content: ToolResultContent[]; status?: 'success' | 'error' } }
  | { reasoningContent: { reasoningText?: ReasoningText; redactedContent?: string } }
  | { cachePoint: CachePoint };

export interface ConverseMessage {
  role: ConverseRole;
  content: ContentBlock[];
}

export type SystemBlock = { text: string } | { cachePoint: CachePoint };

export interface ToolSpec {
  name: string;
  description?: string;
  inputSchema: { json: JsonObject };
}

export type ConverseTool = { toolSpec: ToolSpec } | { cachePoint: CachePoint };

type Empty = Record<string, never>;
export type ConverseToolChoice = { auto: Empty } | { any: Empty } | { tool: { name: string } };

export interface ToolConfig {
  tools: ConverseTool[];
  toolChoice?: ConverseToolChoice;
}

export interface InferenceConfig {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

/** POST /model/{modelId}/converse and /converse-stream (the model id travels in the path). */
export interface ConverseRequestBody {
  messages: ConverseMessage[];
  system?: SystemBlock[];
  inferenceConfig?: InferenceConfig;
  toolConfig?: ToolConfig;
  additionalModelRequestFields?: JsonObject;
}

export type StopReason =
  | 'end_turn'
  | 'tool_use'
  | 'max_tokens'
  | 'stop_sequence'
  | 'guardrail_intervened'
  | 'content_filtered'
  | 'model_context_window_exceeded'
  | 'malformed_model_output'
  | 'malformed_tool_use';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface ConverseResponseBody {
  output: { message: ConverseMessage };
  stopReason: StopReason;
  usage: TokenUsage;
  metrics: { latencyMs: number };
}

/** ConverseStream event payloads, keyed by their `:event-type` header. */
export interface ConverseStreamEvents {
  messageStart: { role: ConverseRole };
  contentBlockStart: { contentBlockIndex: number; start: { toolUse?: { toolUseId: string; name: string } } };
  contentBlockDelta: {
    contentBlockIndex: number;
    delta: {
      text?: string;
      toolUse?: { input: string };
      reasoningContent?: { text?: string; signature?: string; redactedContent?: string };
    };
  };
  contentBlockStop: { contentBlockIndex: number };
  messageStop: { stopReason: StopReason; additionalModelResponseFields?: JsonValue };
  metadata: { usage: TokenUsage; metrics: { latencyMs: number } };
}

export type ConverseStreamEventType = keyof ConverseStreamEvents;

/** Exception events a ConverseStream can carry instead of its next event (`:exception-type`). */
export type ConverseStreamExceptionType =
  | 'internalServerException'
  | 'modelStreamErrorException'
  | 'validationException'
  | 'throttlingException'
  | 'serviceUnavailableException';

/** InvokeModel body for Amazon Titan Text Embeddings (v1 takes only `inputText`). */
export interface TitanEmbeddingRequest {
  inputText: string;
  dimensions?: number;
  normalize?: boolean;
}

export interface TitanEmbeddingResponse {
  embedding: number[];
  inputTextTokenCount: number;
  embeddingsByType?: { float?: number[] };
}
