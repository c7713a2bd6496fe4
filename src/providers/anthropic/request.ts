// Canonical (OpenAI Chat Completions) request → Anthropic Messages API request.
//
// Mappings that are choices rather than facts:
// - temperature: OpenAI's range is 0..2, Anthropic's 0..1; values above 1 are clamped to 1 (both
//   default to 1, so the common range keeps its meaning).
// - reasoning_effort → `thinking.budget_tokens` via THINKING_BUDGET. Thinking tokens count against
//   max_tokens on Anthropic, as reasoning tokens count against max_completion_tokens on OpenAI.
//   Thinking is left off when a tool call is forced (Anthropic rejects forced tool use with thinking)
//   and when the last assistant turn used tools (its signed thinking block cannot be replayed).
// - response_format json_object/json_schema → a forced tool (JSON_TOOL_NAME) whose input is the answer;
//   response.ts and stream.ts turn that tool call back into message content.
// - system/developer messages anywhere in the conversation are hoisted into `system`, in order.
// - Ignored: seed, presence_penalty, frequency_penalty, metadata (Anthropic has no equivalent), any
//   `extra` field, and assistant `reasoning_content` (Anthropic needs the thinking block's signature).
// - Rejected: n > 1, logprobs, top_logprobs, logit_bias.
import type {
  AssistantMessage,
  ChatMessage,
  ChatRequest,
  ContentPart,
  FunctionTool,
  JsonObject,
  ReasoningEffort,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolMessage,
} from '../../core/canonical.ts';
import { requestedMaxTokens } from '../../core/canonical.ts';
import { badRequest } from '../../core/errors.ts';
import { unchangedBody } from '../passthrough-body.ts';
import type { ProviderEndpoint, Target, UpstreamRequest } from '../types.ts';
import {
  ANTHROPIC_VERSION,
  JSON_TOOL_NAME,
  isRecord,
  type AnthropicImageBlock,
  type AnthropicMessagesRequest,
  type AnthropicRequestBlock,
  type AnthropicRequestMessage,
  type AnthropicTextBlock,
  type AnthropicTool,
  type AnthropicToolChoice,
  type AnthropicToolResultBlock,
} from './wire.ts';

/** Anthropic requires max_tokens; used when neither the client nor the catalog gives one. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Anthropic's smallest accepted thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

export const THINKING_BUDGET: Record<ReasoningEffort, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
};

/** Anthropic rejects non-default sampling with thinking on, except top_p in [0.95, 1]. */
const THINKING_MIN_TOP_P = 0.95;

const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const OBJECT_SCHEMA: JsonObject = { type: 'object' };
const BASE64_MARKER = ';base64';

export function messagesPath(endpoint: ProviderEndpoint): string {
  const base = endpoint.basePath;
  return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`;
}

export function anthropicHeaders(endpoint: ProviderEndpoint): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION };
  if (endpoint.apiKey) headers['x-api-key'] = endpoint.apiKey;
  return Object.assign(headers, endpoint.headers);
}

export function buildChatRequest(req: ChatRequest, target: Target): UpstreamRequest {
  return {
    method: 'POST',
    path: messagesPath(target.endpoint),
    headers: anthropicHeaders(target.endpoint),
    body: JSON.stringify(toAnthropicRequest(req, target)),
  };
}

/** Same-dialect fast path: the client's own Anthropic body with only the model (and stream flag) set. */
export function passthroughChatRequest(body: Record<string, unknown>, target: Target, stream: boolean, clientBytes?: Uint8Array): UpstreamRequest {
  const out: Record<string, unknown> = { ...body, model: target.model };
  if (stream) out.stream = true;
  else delete out.stream;
  return {
    method: 'POST',
    path: messagesPath(target.endpoint),
    headers: anthropicHeaders(target.endpoint),
    body: clientBytes && unchangedBody(out, body) ? clientBytes : JSON.stringify(out),
  };
}

export function toAnthropicRequest(req: ChatRequest, target: Target): AnthropicMessagesRequest {
  rejectUnsupported(req);
  const { system, messages } = convertMessages(req.messages);
  const { tools, toolChoice } = convertTools(req);
  const forcedTool = toolChoice !== undefined && (toolChoice.type === 'any' || toolChoice.type === 'tool');

  const requested = requestedMaxTokens(req);
  const cap = target.maxOutputTokens;
  let maxTokens = requested ?? cap ?? DEFAULT_MAX_TOKENS;
  let budget: number | undefined;
  if (req.reasoning_effort && !forcedTool && !lastAssistantUsedTools(messages)) {
    budget = THINKING_BUDGET[req.reasoning_effort];
    if (requested === undefined) {
      // Room for the thinking budget plus an answer, within the model's output cap.
      maxTokens = Math.max(maxTokens, budget + DEFAULT_MAX_TOKENS);
      if (cap !== undefined) maxTokens = Math.min(maxTokens, cap);
    }
    if (budget >= maxTokens) budget = Math.floor(maxTokens / 2);
    if (budget < MIN_THINKING_BUDGET) budget = undefined;
  }

  const body: AnthropicMessagesRequest = { model: target.model, max_tokens: maxTokens, messages };
  if (system.length > 0) body.system = system;
  if (tools.length > 0) body.tools = tools;
  if (toolChoice) body.tool_choice = toolChoice;
  if (budget !== undefined) {
    body.thinking = { type: 'enabled', budget_tokens: budget };
    if (req.top_p !== undefined) body.top_p = Math.max(req.top_p, THINKING_MIN_TOP_P);
  } else {
    if (req.temperature !== undefined) body.temperature = Math.min(Math.max(req.temperature, 0), 1);
    if (req.top_p !== undefined) body.top_p = req.top_p;
  }
  const stops = stopSequences(req.stop);
  if (stops) body.stop_sequences = stops;
  if (req.user) body.metadata = { user_id: req.user };
  if (req.stream) body.stream = true;
  return body;
}

function rejectUnsupported(req: ChatRequest): void {
  if (req.n !== undefined && req.n > 1) throw unsupported('n > 1 (one choice per request)', 'n');
  if (req.logprobs) throw unsupported('logprobs', 'logprobs');
  if (req.top_logprobs !== undefined) throw unsupported('top_logprobs', 'top_logprobs');
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) throw unsupported('logit_bias', 'logit_bias');
}

function unsupported(what: string, param: string) {
  return badRequest(`Anthropic models do not support ${what}`, param, 'unsupported_parameter');
}

function stopSequences(stop: string | string[] | undefined): string[] | undefined {
  if (stop === undefined) return undefined;
  const list = (typeof stop === 'string' ? [stop] : stop).filter((s) => s.length > 0);
  return list.length > 0 ? list : undefined;
}

// ---- messages -------------------------------------------------------------------------------------

interface Conversation {
  system: AnthropicTextBlock[];
  messages: AnthropicRequestMessage[];
}

function convertMessages(input: ChatMessage[]): Conversation {
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicRequestMessage[] = [];
  // Anthropic requires alternating roles: consecutive same-role turns (e.g. several tool results) merge.
  const push = (role: 'user' | 'assistant', blocks: AnthropicRequestBlock[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (let i = 0; i < input.length; i++) {
    const message = input[i];
    switch (message.role) {
      case 'system':
      case 'developer':
        appendText(system, message.content);
        break;
      case 'user':
        push('user', userBlocks(message.content, i));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(message, i));
        break;
      case 'tool':
        push('user', [toolResult(message)]);
        break;
    }
  }
  for (const message of messages) if (message.role === 'user') toolResultsFirst(message.content);
  trimFinalAssistant(messages);
  return { system, messages };
}

function textBlock(part: TextPart): AnthropicTextBlock {
  return part.cache_control ? { type: 'text', text: part.text, cache_control: part.cache_control } : { type: 'text', text: part.text };
}

/** Anthropic rejects empty text blocks, so empty strings and parts are skipped. */
function appendText(out: AnthropicRequestBlock[], content: string | TextPart[] | null | undefined): void {
  if (content == null) return;
  if (typeof content === 'string') {
    if (content.length > 0) out.push({ type: 'text', text: content });
    return;
  }
  for (const part of content) if (part.type === 'text' && part.text.length > 0) out.push(textBlock(part));
}

function userBlocks(content: string | ContentPart[], index: number): AnthropicRequestBlock[] {
  const blocks: AnthropicRequestBlock[] = [];
  if (typeof content === 'string') {
    appendText(blocks, content);
    return blocks;
  }
  for (let j = 0; j < content.length; j++) {
    const part = content[j];
    if (part.type === 'text') {
      if (part.text.length > 0) blocks.push(textBlock(part));
    } else {
      blocks.push(imageBlock(part.image_url.url, `messages.${index}.content.${j}.image_url.url`));
    }
  }
  return blocks;
}

function imageBlock(url: string, param: string): AnthropicImageBlock {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const meta = comma === -1 ? '' : url.slice(5, comma);
    if (!meta.endsWith(BASE64_MARKER)) throw badRequest('image data URLs must be base64-encoded', param);
    const semicolon = meta.indexOf(';');
    const mediaType = meta.slice(0, semicolon).toLowerCase();
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
      throw badRequest(`Anthropic accepts image/jpeg, image/png, image/gif or image/webp images, not '${mediaType}'`, param);
    }
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: url.slice(comma + 1) } };
  }
  if (url.startsWith('https://') || url.startsWith('http://')) return { type: 'image', source: { type: 'url', url } };
  throw badRequest('image_url must be a base64 data: URL or an http(s) URL', param);
}

function assistantBlocks(message: AssistantMessage, index: number): AnthropicRequestBlock[] {
  const blocks: AnthropicRequestBlock[] = [];
  appendText(blocks, message.content);
  const calls = message.tool_calls ?? [];
  for (let j = 0; j < calls.length; j++) {
    const call = calls[j];
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments, `messages.${index}.tool_calls.${j}.function.arguments`),
    });
  }
  return blocks;
}

function toolInput(args: string, param: string): JsonObject {
  if (args.trim().length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(args);
  } catch {
    throw badRequest('tool call arguments are not valid JSON', param);
  }
  if (!isRecord(value)) throw badRequest('tool call arguments must be a JSON object', param);
  // Parsed from JSON text, so every value in it is JSON.
  return value as JsonObject;
}

function toolResult(message: ToolMessage): AnthropicToolResultBlock {
  const block: AnthropicToolResultBlock = { type: 'tool_result', tool_use_id: message.tool_call_id };
  if (typeof message.content === 'string') {
    if (message.content.length > 0) block.content = message.content;
  } else {
    const parts: AnthropicTextBlock[] = [];
    appendText(parts, message.content);
    if (parts.length > 0) block.content = parts;
  }
  return block;
}

/** Anthropic wants a user turn's tool_result blocks before anything else in it. */
function toolResultsFirst(blocks: AnthropicRequestBlock[]): void {
  let seenOther = false;
  let misplaced = false;
  for (const block of blocks) {
    if (block.type !== 'tool_result') seenOther = true;
    else if (seenOther) misplaced = true;
  }
  if (!misplaced) return;
  const results = blocks.filter((b) => b.type === 'tool_result');
  const rest = blocks.filter((b) => b.type !== 'tool_result');
  blocks.splice(0, blocks.length, ...results, ...rest);
}

/** A final assistant turn is a prefill, and Anthropic rejects prefills ending in whitespace. */
function trimFinalAssistant(messages: AnthropicRequestMessage[]): void {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'assistant') return;
  const block = last.content[last.content.length - 1];
  if (block.type !== 'text') return;
  const trimmed = block.text.trimEnd();
  if (trimmed.length > 0) block.text = trimmed;
  else if (last.content.length > 1) last.content.pop();
  else messages.pop();
}

function lastAssistantUsedTools(messages: AnthropicRequestMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'assistant') return messages[i].content.some((b) => b.type === 'tool_use');
  }
  return false;
}

// ---- tools ----------------------------------------------------------------------------------------

interface ToolSetup {
  tools: AnthropicTool[];
  toolChoice: AnthropicToolChoice | undefined;
}

function convertTools(req: ChatRequest): ToolSetup {
  const tools = (req.tools ?? []).map(convertTool);
  const json = jsonTool(req.response_format);
  let toolChoice: AnthropicToolChoice | undefined;
  if (json) {
    const choice = req.tool_choice;
    if (tools.length > 0 && choice !== 'none') {
      // The model either calls one of the client's tools or answers through the JSON tool.
      toolChoice = typeof choice === 'object' ? { type: 'tool', name: choice.function.name } : { type: 'any' };
      tools.push(json);
    } else {
      tools.length = 0;
      tools.push(json);
      toolChoice = { type: 'tool', name: JSON_TOOL_NAME };
    }
  } else if (tools.length > 0) {
    toolChoice = convertToolChoice(req.tool_choice);
  }
  if (req.parallel_tool_calls === false && tools.length > 0) {
    toolChoice ??= { type: 'auto' };
    if (toolChoice.type !== 'none') toolChoice.disable_parallel_tool_use = true;
  }
  return { tools, toolChoice };
}

function convertTool(tool: FunctionTool, index: number): AnthropicTool {
  const fn = tool.function;
  if (fn.name === JSON_TOOL_NAME) throw badRequest(`the tool name '${JSON_TOOL_NAME}' is reserved by the gateway`, `tools.${index}.function.name`);
  const out: AnthropicTool = { name: fn.name, input_schema: objectSchema(fn.parameters) };
  if (fn.description) out.description = fn.description;
  if (tool.cache_control) out.cache_control = tool.cache_control;
  return out;
}

/** Anthropic requires `type: 'object'` at the root of an input schema; OpenAI allows it to be left out. */
function objectSchema(schema: JsonObject | undefined): JsonObject {
  if (!schema) return OBJECT_SCHEMA;
  return schema.type === undefined ? { type: 'object', ...schema } : schema;
}

function convertToolChoice(choice: ToolChoice | undefined): AnthropicToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  return { type: 'tool', name: choice.function.name };
}

function jsonTool(format: ResponseFormat | undefined): AnthropicTool | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') {
    return { name: JSON_TOOL_NAME, description: 'Give your final answer as a JSON object: the input of this tool.', input_schema: OBJECT_SCHEMA };
  }
  const spec = format.json_schema;
  if (spec.schema && spec.schema.type !== undefined && spec.schema.type !== 'object') {
    throw badRequest('the JSON schema must describe an object at its root for Anthropic models', 'response_format.json_schema.schema');
  }
  const description = spec.description
    ? `Give your final answer as the input of this tool. ${spec.description}`
    : `Give your final answer as the input of this tool, matching the '${spec.name}' schema.`;
  return { name: JSON_TOOL_NAME, description, input_schema: objectSchema(spec.schema) };
}
