// Validation of Anthropic Messages request bodies and their translation to the canonical request, so
// that Anthropic SDK clients can reach any model behind the gateway.
//
// Dropped on purpose: `top_k` (no OpenAI equivalent), thinking / redacted_thinking blocks in the
// history (their signatures only mean something to Anthropic), unknown top-level fields. Tool results
// flagged `is_error` reach the model as text prefixed with "Error: " (OpenAI has no error flag), and
// images inside tool results follow the tool messages as a user message. `thinking.budget_tokens` is
// mapped to reasoning_effort by `effortForBudget`, `output_config.effort` by EFFORT, and
// `output_config.format` (structured outputs) becomes response_format json_schema.
import { z } from 'zod';
import {
  MAX_OUTPUT_TOKENS,
  type AssistantMessage,
  type ChatMessage,
  type ChatRequest,
  type ContentPart,
  type JsonObject,
  type ReasoningEffort,
  type TextPart,
  type ToolCall,
} from '../../core/canonical.ts';
import { badRequest } from '../../core/errors.ts';
import { isRecord } from '../../providers/anthropic/wire.ts';
import { assertJsonSchema } from '../json-schema.ts';
import { zodBadRequest } from './errors.ts';

/** Bounds that keep absurd values from reaching routing, budgets and providers. */
const MAX_STOP_SEQUENCES = 256;

// Tool schemas and inputs arrive from JSON.parse, so any object in them is JSON: checking the shape
// of the root is enough, and walking them would cost on every request.
const jsonObject = z.custom<JsonObject>((value) => isRecord(value), { error: 'expected a JSON object' });

const cacheControl = z.object({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() });

const textBlock = z.object({ type: z.literal('text'), text: z.string(), cache_control: cacheControl.nullish() });

const imageSource = z.discriminatedUnion('type', [
  z.object({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string() }),
  z.object({ type: z.literal('url'), url: z.string().min(1) }),
]);
const imageBlock = z.object({ type: z.literal('image'), source: imageSource, cache_control: cacheControl.nullish() });

const toolResultBlock = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl.nullish(),
});

const contentBlock = z.discriminatedUnion('type', [
  textBlock,
  imageBlock,
  z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: jsonObject }),
  toolResultBlock,
  z.object({ type: z.literal('thinking'), thinking: z.string() }),
  z.object({ type: z.literal('redacted_thinking') }),
  // Recognised so that the error says what is wrong rather than "unknown type".
  z.object({ type: z.literal('document') }),
]);

type ContentBlock = z.infer<typeof contentBlock>;
type TextBlock = z.infer<typeof textBlock>;
type ImageBlock = z.infer<typeof imageBlock>;
type ToolResultBlock = z.infer<typeof toolResultBlock>;

const message = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(contentBlock)]),
});

const tool = z.object({
  type: z.literal('custom', { error: 'only client (custom) tools are supported, not Anthropic server tools' }).optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: jsonObject,
  cache_control: cacheControl.nullish(),
});

const parallel = { disable_parallel_tool_use: z.boolean().optional() };
const toolChoice = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), ...parallel }),
  z.object({ type: z.literal('any'), ...parallel }),
  z.object({ type: z.literal('tool'), name: z.string(), ...parallel }),
  z.object({ type: z.literal('none') }),
]);

const thinking = z.discriminatedUnion('type', [
  z.object({ type: z.literal('enabled'), budget_tokens: z.number().int().min(1) }),
  z.object({ type: z.literal('disabled') }),
  z.object({ type: z.literal('adaptive') }),
]);

const outputConfig = z.object({
  effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullish(),
  format: z.object({ type: z.literal('json_schema'), schema: jsonObject }).nullish(),
});

const messagesRequest = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).max(MAX_OUTPUT_TOKENS),
  messages: z.array(message).min(1, 'at least one message is required'),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  stop_sequences: z.array(z.string()).max(MAX_STOP_SEQUENCES).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.object({ user_id: z.string().nullish() }).optional(),
  stream: z.boolean().optional(),
  thinking: thinking.optional(),
  output_config: outputConfig.optional(),
});

type MessagesRequest = z.infer<typeof messagesRequest>;

/** Inverse of the adapter's THINKING_BUDGET table (1024/2048 → low, 8192 → medium, 16384 → high). */
export function effortForBudget(budget: number): ReasoningEffort {
  if (budget >= 16384) return 'high';
  if (budget >= 4096) return 'medium';
  return 'low';
}

const EFFORT: Record<'low' | 'medium' | 'high' | 'xhigh' | 'max', ReasoningEffort> = {
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'high',
  max: 'high',
};

/** A budget decides the effort; otherwise `output_config.effort`, with adaptive thinking meaning medium. */
function reasoningEffort(input: MessagesRequest): ReasoningEffort | undefined {
  const thinkingConfig = input.thinking;
  if (thinkingConfig?.type === 'disabled') return undefined;
  if (thinkingConfig?.type === 'enabled') return effortForBudget(thinkingConfig.budget_tokens);
  const effort = input.output_config?.effort;
  if (effort) return EFFORT[effort];
  return thinkingConfig?.type === 'adaptive' ? 'medium' : undefined;
}

export function parseAnthropicChat(body: unknown): ChatRequest {
  const parsed = messagesRequest.safeParse(body);
  if (!parsed.success) throw zodBadRequest(parsed.error);
  const input = parsed.data;
  input.tools?.forEach((t, i) => assertJsonSchema(t.input_schema, `tools.${i}.input_schema`));
  if (input.output_config?.format) assertJsonSchema(input.output_config.format.schema, 'output_config.format.schema');
  const messages: ChatMessage[] = [];
  if (input.system !== undefined) {
    const system = textContent(input.system);
    if (system !== undefined) messages.push({ role: 'system', content: system });
  }
  for (let i = 0; i < input.messages.length; i++) {
    const { role, content } = input.messages[i];
    if (role === 'user') convertUser(content, i, messages);
    else convertAssistant(content, i, messages);
  }
  const req: ChatRequest = { model: input.model, messages, max_tokens: input.max_tokens };
  if (input.stream) {
    req.stream = true;
    // The Anthropic encoder reports usage in message_delta, so it always needs the usage chunk.
    req.stream_options = { include_usage: true };
  }
  applyTools(input, req);
  if (input.stop_sequences && input.stop_sequences.length > 0) req.stop = input.stop_sequences;
  if (input.temperature !== undefined) req.temperature = input.temperature;
  if (input.top_p !== undefined) req.top_p = input.top_p;
  if (input.metadata?.user_id) req.user = input.metadata.user_id;
  const effort = reasoningEffort(input);
  if (effort) req.reasoning_effort = effort;
  const format = input.output_config?.format;
  if (format) req.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema } };
  return req;
}

function applyTools(input: MessagesRequest, req: ChatRequest): void {
  if (input.tools && input.tools.length > 0) {
    req.tools = input.tools.map((t) => {
      const fn: { name: string; description?: string; parameters: JsonObject } = { name: t.name, parameters: t.input_schema };
      if (t.description !== undefined) fn.description = t.description;
      return t.cache_control ? { type: 'function', function: fn, cache_control: t.cache_control } : { type: 'function', function: fn };
    });
  }
  const choice = input.tool_choice;
  if (!choice) return;
  if (choice.type === 'auto') req.tool_choice = 'auto';
  else if (choice.type === 'any') req.tool_choice = 'required';
  else if (choice.type === 'none') req.tool_choice = 'none';
  else req.tool_choice = { type: 'function', function: { name: choice.name } };
  if (choice.type !== 'none' && choice.disable_parallel_tool_use) req.parallel_tool_calls = false;
}

function textPart(block: TextBlock): TextPart {
  return block.cache_control ? { type: 'text', text: block.text, cache_control: block.cache_control } : { type: 'text', text: block.text };
}

/** A lone uncached text block becomes a plain string, which every provider accepts. */
function textContent(content: string | TextBlock[]): string | TextPart[] | undefined {
  if (typeof content === 'string') return content;
  if (content.length === 0) return undefined;
  if (content.length === 1 && !content[0].cache_control) return content[0].text;
  return content.map(textPart);
}

function imagePart(block: ImageBlock): ContentPart {
  const source = block.source;
  const url = source.type === 'url' ? source.url : `data:${source.media_type};base64,${source.data}`;
  return { type: 'image_url', image_url: { url } };
}

function unsupportedBlock(block: ContentBlock, path: string, role: string): never {
  const param = `${path}.type`;
  if (block.type === 'document') {
    throw badRequest(`${param}: document blocks are not supported by this gateway; send the text as a text block`, param);
  }
  throw badRequest(`${param}: ${block.type} blocks are not allowed in ${role} messages`, param);
}

function convertUser(content: string | ContentBlock[], index: number, out: ChatMessage[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'user', content });
    return;
  }
  const parts: ContentPart[] = [];
  for (let j = 0; j < content.length; j++) {
    const block = content[j];
    switch (block.type) {
      case 'text':
        parts.push(textPart(block));
        break;
      case 'image':
        parts.push(imagePart(block));
        break;
      case 'tool_result':
        out.push(toolMessage(block, parts));
        break;
      case 'thinking':
      case 'redacted_thinking':
        break;
      default:
        unsupportedBlock(block, `messages.${index}.content.${j}`, 'user');
    }
  }
  if (parts.length === 0) return;
  const only = parts[0];
  const simple = parts.length === 1 && only.type === 'text' && !only.cache_control;
  out.push({ role: 'user', content: simple ? only.text : parts });
}

/** Tool results become tool messages; their images are moved to the user message that follows. */
function toolMessage(block: ToolResultBlock, userParts: ContentPart[]): ChatMessage {
  const texts: TextPart[] = [];
  if (typeof block.content === 'string') texts.push({ type: 'text', text: block.content });
  else {
    for (const part of block.content ?? []) {
      if (part.type === 'text') texts.push(textPart(part));
      else userParts.push(imagePart(part));
    }
  }
  if (block.is_error) {
    let text = 'Error: ';
    for (const part of texts) text += part.text;
    return { role: 'tool', tool_call_id: block.tool_use_id, content: text };
  }
  const content = texts.length === 1 && !texts[0].cache_control ? texts[0].text : texts.length === 0 ? '' : texts;
  return { role: 'tool', tool_call_id: block.tool_use_id, content };
}

function convertAssistant(content: string | ContentBlock[], index: number, out: ChatMessage[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'assistant', content });
    return;
  }
  const texts: TextBlock[] = [];
  const toolCalls: ToolCall[] = [];
  for (let j = 0; j < content.length; j++) {
    const block = content[j];
    switch (block.type) {
      case 'text':
        texts.push(block);
        break;
      case 'tool_use':
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input) } });
        break;
      case 'thinking':
      case 'redacted_thinking':
        break;
      default:
        unsupportedBlock(block, `messages.${index}.content.${j}`, 'assistant');
    }
  }
  const text = textContent(texts);
  if (text === undefined && toolCalls.length === 0) return;
  const message: AssistantMessage = { role: 'assistant', content: text ?? null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  out.push(message);
}
