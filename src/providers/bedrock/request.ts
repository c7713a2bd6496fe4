// Canonical (OpenAI Chat Completions) request → Bedrock Converse request.
import type {
  AssistantMessage,
  CacheControl,
  ChatRequest,
  ContentPart,
  EmbeddingsRequest,
  FunctionTool,
  JsonObject,
  JsonValue,
  ReasoningEffort,
  TextPart,
  ToolMessage,
} from '../../core/canonical.ts';
import { contentText, requestedMaxTokens } from '../../core/canonical.ts';
import { badRequest } from '../../core/errors.ts';
import type { Target, UpstreamRequest } from '../types.ts';
import { EVENT_STREAM_CONTENT_TYPE } from './eventstream.ts';
import { authorizedHeaders } from './signing.ts';
import type {
  CachePoint,
  ContentBlock,
  ConverseMessage,
  ConverseRequestBody,
  ConverseRole,
  ConverseTool,
  ConverseToolChoice,
  ImageFormat,
  InferenceConfig,
  SystemBlock,
  TitanEmbeddingRequest,
  ToolConfig,
  ToolResultContent,
} from './wire.ts';

/**
 * Bedrock has no JSON mode for every model, so `response_format` is emulated with a tool the model must
 * call; the response and stream decoders turn its input back into JSON text content. The name is
 * reserved: client tools may not use it.
 */
export const JSON_TOOL_NAME = 'switchyard_json_output';
const JSON_TOOL_DESCRIPTION = 'Give your final answer by calling this tool; its input is the answer as JSON.';

/** Extended-thinking budgets for Claude; Anthropic's floor is 1024 and the budget must stay below maxTokens. */
const THINKING_BUDGET: Record<ReasoningEffort, number> = { minimal: 1024, low: 2048, medium: 8192, high: 16384 };
const MIN_THINKING_BUDGET = 1024;
/** Answer room added on top of the thinking budget when the client set no output cap. */
const ANSWER_TOKENS = 4096;
/** Claude generations before 3.7 have no extended thinking. */
const CLAUDE_WITHOUT_THINKING = /claude-(?:instant|v\d|3-(?!7))/;

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const EMPTY_SCHEMA: JsonObject = { type: 'object', properties: {} };
const CACHE_POINT: CachePoint = { type: 'default' };

export function isJsonMode(req: ChatRequest): boolean {
  const format = req.response_format;
  return format !== undefined && format.type !== 'text';
}

export function chatRequest(req: ChatRequest, target: Target): UpstreamRequest {
  const body = JSON.stringify(converseBody(req, target));
  const path = `${target.endpoint.basePath}/model/${encodeURIComponent(target.model)}/${req.stream ? 'converse-stream' : 'converse'}`;
  const accept = req.stream ? EVENT_STREAM_CONTENT_TYPE : 'application/json';
  return { method: 'POST', path, headers: authorizedHeaders(target.endpoint, path, body, accept), body };
}

export function converseBody(req: ChatRequest, target: Target): ConverseRequestBody {
  rejectUnsupported(req);
  const system: SystemBlock[] = [];
  const messages: ConverseMessage[] = [];
  const calledTools = new Set<string>();
  let toolBlocks = false;
  req.messages.forEach((message, i) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        appendSystem(system, message.content);
        break;
      case 'user':
        append(messages, 'user', userBlocks(message.content, i));
        break;
      case 'assistant': {
        const blocks = assistantBlocks(message, i);
        if (message.tool_calls?.length) {
          toolBlocks = true;
          for (const call of message.tool_calls) calledTools.add(call.function.name);
        }
        append(messages, 'assistant', blocks);
        break;
      }
      case 'tool':
        toolBlocks = true;
        append(messages, 'user', [toolResultBlock(message)]);
        break;
    }
  });

  const body: ConverseRequestBody = { messages };
  if (system.length > 0) body.system = system;
  const toolConfig = buildToolConfig(req, toolBlocks, calledTools);
  if (toolConfig) body.toolConfig = toolConfig;
  const forcedTool = toolConfig?.toolChoice !== undefined && !('auto' in toolConfig.toolChoice);
  const inference = inferenceConfig(req);
  const thinkingBudget = forcedTool ? undefined : thinkingBudgetFor(req, target, inference);
  if (thinkingBudget !== undefined) {
    body.additionalModelRequestFields = { thinking: { type: 'enabled', budget_tokens: thinkingBudget } };
    // Claude rejects sampling overrides while thinking.
    delete inference.temperature;
    delete inference.topP;
  }
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  return body;
}

function rejectUnsupported(req: ChatRequest): void {
  if (req.n !== undefined && req.n > 1) throw badRequest('Bedrock returns one choice per request; n must be 1', 'n');
  if (req.logprobs || req.top_logprobs !== undefined) throw badRequest('Bedrock does not return log probabilities', 'logprobs');
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) throw badRequest('Bedrock does not support logit_bias', 'logit_bias');
}

/** Bedrock requires alternating roles, so consecutive same-role messages become one. */
function append(messages: ConverseMessage[], role: ConverseRole, blocks: ContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  if (last !== undefined && last.role === role) {
    for (const block of blocks) last.content.push(block);
  } else {
    messages.push({ role, content: blocks });
  }
}

function cachePoint(control: CacheControl): CachePoint {
  return control.ttl === '5m' || control.ttl === '1h' ? { type: 'default', ttl: control.ttl } : CACHE_POINT;
}

function appendSystem(system: SystemBlock[], content: string | TextPart[]): void {
  if (typeof content === 'string') {
    if (content) system.push({ text: content });
    return;
  }
  for (const part of content) {
    if (part.text) system.push({ text: part.text });
    if (part.cache_control) system.push({ cachePoint: cachePoint(part.cache_control) });
  }
}

/** Bedrock rejects blank text blocks, so empty text is dropped rather than sent. */
function textBlocks(content: string | TextPart[] | null | undefined, out: ContentBlock[]): void {
  if (content == null) return;
  if (typeof content === 'string') {
    if (content) out.push({ text: content });
    return;
  }
  for (const part of content) {
    if (part.text) out.push({ text: part.text });
    if (part.cache_control) out.push({ cachePoint: cachePoint(part.cache_control) });
  }
}

function userBlocks(content: string | ContentPart[], index: number): ContentBlock[] {
  const out: ContentBlock[] = [];
  if (typeof content === 'string') {
    if (content) out.push({ text: content });
    return out;
  }
  for (const part of content) {
    if (part.type === 'text') {
      if (part.text) out.push({ text: part.text });
      if (part.cache_control) out.push({ cachePoint: cachePoint(part.cache_control) });
    } else {
      out.push(imageBlock(part.image_url.url, index));
    }
  }
  return out;
}

function imageBlock(url: string, index: number): ContentBlock {
  const param = `messages[${index}].content`;
  if (!url.startsWith('data:')) {
    throw badRequest('Bedrock only accepts inline images: send the image as a base64 data: URL, not a link', param);
  }
  const comma = url.indexOf(',');
  const meta = comma === -1 ? '' : url.slice(5, comma);
  if (!meta.endsWith(';base64')) throw badRequest('image data: URLs must be base64-encoded', param);
  const mime = meta.slice(0, meta.indexOf(';')).toLowerCase();
  const format = IMAGE_FORMATS[mime];
  if (format === undefined) throw badRequest(`Bedrock accepts png, jpeg, gif and webp images, not ${mime || 'this type'}`, param);
  return { image: { format, source: { bytes: url.slice(comma + 1) } } };
}

function assistantBlocks(message: AssistantMessage, index: number): ContentBlock[] {
  // Earlier reasoning is not replayed: Bedrock wants it with its signature, which the canonical form lacks.
  const out: ContentBlock[] = [];
  textBlocks(message.content, out);
  for (const call of message.tool_calls ?? []) {
    out.push({ toolUse: { toolUseId: call.id, name: call.function.name, input: toolInput(call.function.arguments, index) } });
  }
  return out;
}

function toolInput(args: string, index: number): JsonObject {
  if (args.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(args);
  } catch {
    throw badRequest('tool call arguments must be valid JSON', `messages[${index}].tool_calls`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('tool call arguments must be a JSON object', `messages[${index}].tool_calls`);
  }
  return value as JsonObject;
}

function toolResultBlock(message: ToolMessage): ContentBlock {
  const text = contentText(message.content);
  const content: ToolResultContent[] = [];
  if (text.length > 0) content.push(jsonObjectOrText(text));
  return { toolResult: { toolUseId: message.tool_call_id, content } };
}

/** Tool output that is a JSON object goes as `json`, which models read structurally; anything else as text. */
function jsonObjectOrText(text: string): ToolResultContent {
  if (text.charCodeAt(0) === 123 /* { */) {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { json: value as JsonValue };
    } catch {
      // not JSON after all: send it as text
    }
  }
  return { text };
}

function toolSpec(tool: FunctionTool): ConverseTool {
  const { name, description, parameters } = tool.function;
  if (name === JSON_TOOL_NAME) throw badRequest(`tool name ${JSON_TOOL_NAME} is reserved by the gateway`, 'tools');
  return {
    toolSpec: { name, ...(description ? { description } : {}), inputSchema: { json: parameters ?? EMPTY_SCHEMA } },
  };
}

function jsonToolSpec(req: ChatRequest): ConverseTool {
  const format = req.response_format;
  const schema = format?.type === 'json_schema' ? format.json_schema.schema : undefined;
  const description = format?.type === 'json_schema' ? format.json_schema.description : undefined;
  return {
    toolSpec: {
      name: JSON_TOOL_NAME,
      description: description ? `${JSON_TOOL_DESCRIPTION} ${description}` : JSON_TOOL_DESCRIPTION,
      inputSchema: { json: schema ?? { type: 'object' } },
    },
  };
}

/**
 * Bedrock has no `none` tool choice, and it rejects tool blocks in the history unless tools are declared.
 * So `none` omits the tools when the history has no tool blocks and otherwise declares them with the
 * default (auto) choice; a history with tool blocks but no tools gets minimal specs for the tools it used.
 * In JSON mode the choice is `any` (wider model support than naming the tool): the model answers through
 * the JSON tool, or calls one of the client's tools.
 */
function buildToolConfig(req: ChatRequest, toolBlocks: boolean, calledTools: Set<string>): ToolConfig | undefined {
  const json = isJsonMode(req);
  const choice = req.tool_choice;
  const tools: ConverseTool[] = [];
  const declared = req.tools ?? [];
  if (declared.length > 0 && (choice !== 'none' || toolBlocks)) {
    for (const tool of declared) {
      tools.push(toolSpec(tool));
      if (tool.cache_control) tools.push({ cachePoint: cachePoint(tool.cache_control) });
    }
  }
  if (json) tools.push(jsonToolSpec(req));
  if (tools.length === 0 && toolBlocks) {
    for (const name of calledTools) tools.push({ toolSpec: { name, inputSchema: { json: EMPTY_SCHEMA } } });
  }
  if (tools.length === 0) return undefined;

  let toolChoice: ConverseToolChoice | undefined;
  if (typeof choice === 'object') toolChoice = { tool: { name: choice.function.name } };
  else if (json || choice === 'required') toolChoice = { any: {} };
  else if (choice === 'auto') toolChoice = { auto: {} };
  return toolChoice ? { tools, toolChoice } : { tools };
}

function inferenceConfig(req: ChatRequest): InferenceConfig {
  const config: InferenceConfig = {};
  const maxTokens = requestedMaxTokens(req);
  if (maxTokens !== undefined) config.maxTokens = maxTokens;
  if (req.temperature !== undefined) config.temperature = req.temperature;
  if (req.top_p !== undefined) config.topP = req.top_p;
  if (req.stop !== undefined) {
    const stops = typeof req.stop === 'string' ? [req.stop] : req.stop;
    if (stops.length > 0) config.stopSequences = stops;
  }
  return config;
}

/**
 * `reasoning_effort` becomes Claude extended thinking (Claude 3.7 and later); other models ignore it. The
 * budget counts against maxTokens, as OpenAI's reasoning tokens count against max_completion_tokens; a
 * cap too small for the 1024-token minimum turns thinking off rather than failing the request.
 */
function thinkingBudgetFor(req: ChatRequest, target: Target, inference: InferenceConfig): number | undefined {
  const effort = req.reasoning_effort;
  if (effort === undefined) return undefined;
  const model = target.model;
  if (!model.includes('anthropic.') || CLAUDE_WITHOUT_THINKING.test(model)) return undefined;
  let budget = THINKING_BUDGET[effort];
  const cap = inference.maxTokens ?? target.maxOutputTokens;
  if (cap === undefined) {
    inference.maxTokens = budget + ANSWER_TOKENS;
  } else {
    if (cap <= MIN_THINKING_BUDGET) return undefined;
    if (budget >= cap) budget = cap - 1;
    inference.maxTokens = cap;
  }
  return budget;
}

// --- embeddings ---------------------------------------------------------------------------------------

const TITAN_V2_DIMENSIONS = new Set([256, 512, 1024]);

/**
 * Titan text embeddings through InvokeModel. Titan embeds one text per call, so a list input is accepted
 * only when it holds a single string; the client must fan out larger batches.
 */
export function embeddingsRequest(req: EmbeddingsRequest, target: Target): UpstreamRequest {
  const model = target.model;
  if (!model.includes('titan-embed-text')) {
    throw badRequest('Bedrock embeddings are supported for Amazon Titan text embedding models only', 'model');
  }
  const input = req.input;
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input.length === 1 && typeof input[0] === 'string') text = input[0];
  else if (input.length > 1 && input.every((item) => typeof item === 'string')) {
    throw badRequest('Bedrock Titan embeds one text per request; send a single string (or a one-item list) per call', 'input');
  } else throw badRequest('Bedrock Titan embeddings take text input, not token arrays', 'input');

  const body: TitanEmbeddingRequest = { inputText: text };
  if (model.includes('titan-embed-text-v1')) {
    if (req.dimensions !== undefined) throw badRequest('Titan Text Embeddings v1 has a fixed size; omit dimensions', 'dimensions');
  } else {
    if (req.dimensions !== undefined) {
      if (!TITAN_V2_DIMENSIONS.has(req.dimensions)) throw badRequest('Titan Text Embeddings v2 supports 256, 512 or 1024 dimensions', 'dimensions');
      body.dimensions = req.dimensions;
    }
    body.normalize = true;
  }
  const json = JSON.stringify(body);
  const path = `${target.endpoint.basePath}/model/${encodeURIComponent(model)}/invoke`;
  return { method: 'POST', path, headers: authorizedHeaders(target.endpoint, path, json, 'application/json'), body: json };
}
