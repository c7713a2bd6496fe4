// Bedrock Converse request → canonical ChatRequest, validated the way Bedrock validates it (alternating
// roles starting with user, no blank text, tool blocks only with a toolConfig), so adapter bugs show up
// as the ValidationException a real endpoint would return.
import type {
  AssistantMessage,
  ChatMessage,
  ChatRequest,
  ContentPart,
  FunctionTool,
  JsonObject,
  TextPart,
  ToolCall,
  ToolChoice,
} from '../../core/canonical.ts';

export type ParsedConverse = { ok: true; request: ChatRequest } | { ok: false; message: string };

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class ValidationError extends Error {}

function fail(message: string): never {
  throw new ValidationError(message);
}

export function parseConverse(model: string, body: unknown, stream: boolean): ParsedConverse {
  try {
    return { ok: true, request: toChatRequest(model, body, stream) };
  } catch (err) {
    if (err instanceof ValidationError) return { ok: false, message: err.message };
    throw err;
  }
}

function toChatRequest(model: string, body: unknown, stream: boolean): ChatRequest {
  if (!isRecord(body)) fail('Malformed input request, please reformat your input and try again.');
  if (!Array.isArray(body.messages) || body.messages.length === 0) fail('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  const messages: ChatMessage[] = [];
  if (Array.isArray(body.system)) {
    const parts: TextPart[] = [];
    for (const block of body.system) {
      if (isRecord(block) && typeof block.text === 'string') {
        if (block.text.trim() === '') fail('The text field in the SystemContentBlock object is blank. Add text to the text field, and try again.');
        parts.push({ type: 'text', text: block.text });
      } else if (isRecord(block) && 'cachePoint' in block) markLast(parts);
    }
    if (parts.length > 0) messages.push({ role: 'system', content: parts });
  }

  let toolBlocks = false;
  let previousRole = '';
  body.messages.forEach((message: unknown, i: number) => {
    if (!isRecord(message) || !Array.isArray(message.content)) fail(`messages.${i} is malformed.`);
    const role = message.role;
    if (role !== 'user' && role !== 'assistant') fail(`messages.${i}.role must be user or assistant.`);
    if (i === 0 && role !== 'user') fail('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
    if (role === previousRole) fail('A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    previousRole = role;
    if (message.content.length === 0) fail(`The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`);
    const parsed = role === 'user' ? userMessages(message.content, i) : assistantMessage(message.content, i);
    if (parsed.toolBlocks) toolBlocks = true;
    for (const m of parsed.messages) messages.push(m);
  });

  const request: ChatRequest = { model, messages, stream };
  applyInference(request, body.inferenceConfig);
  const hasToolConfig = applyTools(request, body.toolConfig);
  if (toolBlocks && !hasToolConfig) fail('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
  const extra = body.additionalModelRequestFields;
  if (isRecord(extra) && isRecord(extra.thinking) && extra.thinking.type === 'enabled') request.reasoning_effort = 'medium';
  return request;
}

/** A `cachePoint` block caches everything before it: the simulator marks the text part it follows. */
function markLast(parts: ContentPart[]): void {
  const last = parts[parts.length - 1];
  if (last?.type === 'text') last.cache_control = { type: 'ephemeral' };
}

function text(block: Json, where: string): string {
  const value = block.text;
  if (typeof value !== 'string' || value.trim() === '') {
    fail(`The text field in the ContentBlock object at ${where} is blank. Add text to the text field, and try again.`);
  }
  return value;
}

function userMessages(content: unknown[], i: number): { messages: ChatMessage[]; toolBlocks: boolean } {
  const messages: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  let toolBlocks = false;
  content.forEach((block, j) => {
    const where = `messages.${i}.content.${j}`;
    if (!isRecord(block)) fail(`${where} is malformed.`);
    if ('text' in block) parts.push({ type: 'text', text: text(block, where) });
    else if ('cachePoint' in block) markLast(parts);
    else if (isRecord(block.image)) parts.push(image(block.image, where));
    else if (isRecord(block.toolResult)) {
      toolBlocks = true;
      messages.push(toolResult(block.toolResult, where));
    } else fail(`${where} has an unsupported content block.`);
  });
  if (parts.length > 0) messages.push({ role: 'user', content: parts });
  return { messages, toolBlocks };
}

function image(value: Json, where: string): ContentPart {
  const format = value.format;
  const bytes = isRecord(value.source) ? value.source.bytes : undefined;
  if (format !== 'png' && format !== 'jpeg' && format !== 'gif' && format !== 'webp') fail(`${where}.image.format is not a supported image format.`);
  if (typeof bytes !== 'string' || bytes.length === 0) fail(`${where}.image.source.bytes is empty.`);
  return { type: 'image_url', image_url: { url: `data:image/${format};base64,${bytes}` } };
}

function toolResult(value: Json, where: string): ChatMessage {
  if (typeof value.toolUseId !== 'string') fail(`${where}.toolResult.toolUseId is required.`);
  if (!Array.isArray(value.content)) fail(`${where}.toolResult.content is required.`);
  let out = '';
  for (const item of value.content) {
    if (!isRecord(item)) continue;
    if (typeof item.text === 'string') out += item.text;
    else if (item.json !== undefined) out += JSON.stringify(item.json);
  }
  return { role: 'tool', tool_call_id: value.toolUseId, content: out };
}

function assistantMessage(content: unknown[], i: number): { messages: ChatMessage[]; toolBlocks: boolean } {
  let out = '';
  let reasoning = '';
  let cachePoint = false;
  const calls: ToolCall[] = [];
  content.forEach((block, j) => {
    const where = `messages.${i}.content.${j}`;
    if (!isRecord(block)) fail(`${where} is malformed.`);
    if ('text' in block) out += text(block, where);
    else if (isRecord(block.toolUse)) {
      const { toolUseId, name, input } = block.toolUse;
      if (typeof toolUseId !== 'string' || typeof name !== 'string') fail(`${where}.toolUse needs toolUseId and name.`);
      if (!isRecord(input)) fail(`${where}.toolUse.input must be an object.`);
      calls.push({ id: toolUseId, type: 'function', function: { name, arguments: JSON.stringify(input) } });
    } else if (isRecord(block.reasoningContent)) {
      const reasoningText = block.reasoningContent.reasoningText;
      if (isRecord(reasoningText) && typeof reasoningText.text === 'string') reasoning += reasoningText.text;
    } else if (isRecord(block.image) || isRecord(block.toolResult)) {
      fail(`${where}: only user messages can carry images and tool results.`);
    } else if ('cachePoint' in block) cachePoint = true;
    else fail(`${where} has an unsupported content block.`);
  });
  const body: AssistantMessage['content'] = cachePoint && out.length > 0 ? [{ type: 'text', text: out, cache_control: { type: 'ephemeral' } }] : out.length > 0 ? out : null;
  const message: AssistantMessage = { role: 'assistant', content: body };
  if (calls.length > 0) message.tool_calls = calls;
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  return { messages: [message], toolBlocks: calls.length > 0 };
}

function applyInference(request: ChatRequest, value: unknown): void {
  if (!isRecord(value)) return;
  if (typeof value.maxTokens === 'number') {
    if (value.maxTokens < 1) fail('The maximum tokens you requested is invalid. Specify a positive number.');
    request.max_tokens = value.maxTokens;
  }
  if (typeof value.temperature === 'number') request.temperature = value.temperature;
  if (typeof value.topP === 'number') request.top_p = value.topP;
  if (Array.isArray(value.stopSequences)) request.stop = value.stopSequences.filter((s): s is string => typeof s === 'string');
}

/** Returns whether a toolConfig with at least one tool was given. */
function applyTools(request: ChatRequest, value: unknown): boolean {
  if (value === undefined) return false;
  if (!isRecord(value) || !Array.isArray(value.tools) || value.tools.length === 0) fail('The toolConfig field must include at least one tool.');
  const tools: FunctionTool[] = [];
  for (const tool of value.tools) {
    if (isRecord(tool) && 'cachePoint' in tool && tools.length > 0) tools[tools.length - 1].cache_control = { type: 'ephemeral' };
    if (!isRecord(tool) || !isRecord(tool.toolSpec)) continue;
    const spec = tool.toolSpec;
    const schema = isRecord(spec.inputSchema) ? spec.inputSchema.json : undefined;
    if (typeof spec.name !== 'string' || !isRecord(schema)) fail('Each toolSpec needs a name and inputSchema.json.');
    tools.push({
      type: 'function',
      function: { name: spec.name, ...(typeof spec.description === 'string' ? { description: spec.description } : {}), parameters: schema as JsonObject },
    });
  }
  if (tools.length === 0) fail('The toolConfig field must include at least one toolSpec.');
  request.tools = tools;
  const choice = value.toolChoice;
  if (isRecord(choice)) request.tool_choice = toolChoice(choice, tools);
  return true;
}

function toolChoice(choice: Json, tools: FunctionTool[]): ToolChoice {
  if (isRecord(choice.tool)) {
    const name = choice.tool.name;
    if (typeof name !== 'string' || !tools.some((t) => t.function.name === name)) fail('The tool named in toolChoice is not in toolConfig.tools.');
    return { type: 'function', function: { name } };
  }
  if (isRecord(choice.any)) return 'required';
  return 'auto';
}
