// Validation of `POST /v1/responses` bodies. Scalars are checked with zod; input items, content parts
// and tools are dispatched on their `type` first, so an unsupported kind (reasoning items, built-in
// tools, files) is refused with a 400 that names it instead of a generic union failure.
import { z } from 'zod';
import { MAX_OUTPUT_TOKENS, type JsonObject, type JsonValue } from '../../core/canonical.ts';
import { badRequest, type GatewayError } from '../../core/errors.ts';
import { itemId } from './ids.ts';
import type {
  ConversationItem,
  FunctionCallItem,
  FunctionCallOutputItem,
  InputImagePart,
  InputMessageItem,
  InputTextPart,
  OutputMessageItem,
  OutputTextPart,
  RefusalPart,
  ResponsesFunctionTool,
  ResponsesTextFormat,
  ResponsesToolChoice,
} from './types.ts';

export interface ResponsesRequest {
  model: string;
  instructions?: string;
  /** This turn's input, normalised to stored items (ids assigned, string content expanded). */
  input: ConversationItem[];
  tools: ResponsesFunctionTool[];
  toolChoice: ResponsesToolChoice;
  parallelToolCalls: boolean;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  textFormat: ResponsesTextFormat;
  reasoningEffort?: 'minimal' | 'low' | 'medium' | 'high';
  store: boolean;
  stream: boolean;
  previousResponseId?: string;
  metadata: Record<string, string>;
  user?: string;
  truncation: 'disabled' | 'auto';
  /** Switchyard's routing controls (`route`, `models`), handed to the router untouched. */
  routing: Record<string, unknown>;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const textFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1).max(64),
    schema: z.record(z.string(), z.json()),
    description: z.string().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string().min(1) }),
]);

const scalarFields = {
  model: z.string().min(1),
  instructions: z.string().nullable().optional(),
  max_output_tokens: z.number().int().min(1).max(MAX_OUTPUT_TOKENS).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  previous_response_id: z.string().min(1).max(200).nullable().optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
  user: z.string().optional(),
  text: z.object({ format: textFormat.optional(), verbosity: z.enum(['low', 'medium', 'high']).nullable().optional() }).optional(),
  reasoning: z
    .object({
      effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullable().optional(),
      summary: z.enum(['auto', 'concise', 'detailed']).nullable().optional(),
      generate_summary: z.enum(['auto', 'concise', 'detailed']).nullable().optional(),
    })
    .nullable()
    .optional(),
  truncation: z.enum(['auto', 'disabled']).nullable().optional(),
  background: z.boolean().nullable().optional(),
};
const scalarSchema = z.object(scalarFields);

/** Accepted for compatibility and ignored: they tune OpenAI-only features the translation has no place for. */
const IGNORED = new Set([
  'include',
  'service_tier',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
  'stream_options',
  'top_logprobs',
]);
/** Accepted only when null: features the gateway does not implement. */
const UNSUPPORTED_FIELDS: Record<string, string> = {
  conversation: "'conversation' is not supported by this gateway; chain turns with 'previous_response_id'",
  prompt: "reusable prompt templates ('prompt') are not supported by this gateway",
  context_management: "'context_management' is not supported by this gateway",
  moderation: "'moderation' is not supported by this gateway",
};
const STRUCTURED = new Set(['input', 'tools', 'tool_choice']);
const ROUTING = new Set(['route', 'models']);
const KNOWN = new Set([...Object.keys(scalarFields), ...IGNORED, ...Object.keys(UNSUPPORTED_FIELDS), ...STRUCTURED, ...ROUTING]);

const functionTool = z.object({
  type: z.literal('function'),
  name: z.string().regex(TOOL_NAME, 'tool names must be 1-64 characters of a-z, A-Z, 0-9, _ and -'),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.json()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

const functionCall = z.object({
  type: z.literal('function_call'),
  id: z.string().min(1).optional(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  status: z.enum(['in_progress', 'completed', 'incomplete']).nullable().optional(),
});

const functionCallOutput = z.object({
  type: z.literal('function_call_output'),
  id: z.string().min(1).nullable().optional(),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.unknown())]),
  status: z.enum(['in_progress', 'completed', 'incomplete']).nullable().optional(),
});

const message = z.object({
  type: z.literal('message').optional(),
  id: z.string().min(1).optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(z.unknown())]),
  status: z.enum(['in_progress', 'completed', 'incomplete']).nullable().optional(),
  phase: z.string().nullable().optional(),
});

const inputText = z.object({ type: z.literal('input_text'), text: z.string() });
const inputImage = z.object({
  type: z.literal('input_image'),
  image_url: z.string().min(1).nullable().optional(),
  file_id: z.string().nullable().optional(),
  detail: z.enum(['auto', 'low', 'high', 'original']).nullable().optional(),
});
const outputText = z.object({ type: z.literal('output_text'), text: z.string() });
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() });

function parseWith<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = [path, ...issue.path.map(String)].filter(Boolean).join('.');
  return fail(badRequest(`Invalid '${param}': ${issue.message}`, param));
}

function fail(err: GatewayError): never {
  throw err;
}

function typeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

function unsupported(kind: string, type: string, param: string, hint = ''): never {
  throw badRequest(`unsupported ${kind} type '${type}'${hint}`, param, 'unsupported_type');
}

const TOOL_HINT = ': this gateway translates the Responses API onto chat models and supports function tools only';
const ITEM_HINT = ': supported input items are message, function_call and function_call_output';

function parseTool(value: unknown, index: number): ResponsesFunctionTool {
  const param = `tools.${index}`;
  const type = typeOf(value);
  if (type === undefined) throw badRequest(`Invalid '${param}': expected a tool object with a 'type'`, param);
  if (type !== 'function') unsupported('tool', type, `${param}.type`, TOOL_HINT);
  const tool = parseWith(functionTool, value, param);
  const out: ResponsesFunctionTool = { type: 'function', name: tool.name, parameters: (tool.parameters as JsonObject | null | undefined) ?? null, strict: tool.strict ?? null };
  if (tool.description != null) out.description = tool.description;
  return out;
}

function parseToolChoice(value: unknown, tools: readonly ResponsesFunctionTool[]): ResponsesToolChoice {
  if (value === undefined || value === null) return 'auto';
  const type = typeOf(value);
  if (type !== undefined && type !== 'function') unsupported('tool_choice', type, 'tool_choice.type', TOOL_HINT);
  const choice = parseWith(toolChoice, value, 'tool_choice');
  if (typeof choice === 'object' && !tools.some((t) => t.name === choice.name)) {
    throw badRequest(`tool_choice names a function that is not in 'tools'`, 'tool_choice');
  }
  return choice;
}

function textPart(value: unknown, param: string): InputTextPart {
  const part = parseWith(inputText, value, param);
  return { type: 'input_text', text: part.text };
}

function userParts(content: string | unknown[], param: string): Array<InputTextPart | InputImagePart> {
  if (typeof content === 'string') return [{ type: 'input_text', text: content }];
  return content.map((value, i) => {
    const where = `${param}.${i}`;
    const type = typeOf(value);
    if (type === 'input_text') return textPart(value, where);
    if (type === 'input_image') {
      const image = parseWith(inputImage, value, where);
      if (!image.image_url) throw badRequest(`Invalid '${where}': only images given by 'image_url' (https or data URL) are supported, not file ids`, `${where}.image_url`);
      const detail = image.detail === 'low' || image.detail === 'high' ? image.detail : 'auto';
      return { type: 'input_image', image_url: image.image_url, detail };
    }
    return unsupported('content part', type ?? String(value), `${where}.type`, ': supported parts are input_text and input_image');
  });
}

function assistantParts(content: string | unknown[], param: string): Array<OutputTextPart | RefusalPart> {
  if (typeof content === 'string') return [{ type: 'output_text', text: content, annotations: [] }];
  return content.map((value, i) => {
    const where = `${param}.${i}`;
    const type = typeOf(value);
    if (type === 'output_text' || type === 'input_text') {
      const text = type === 'output_text' ? parseWith(outputText, value, where).text : textPart(value, where).text;
      return { type: 'output_text', text, annotations: [] };
    }
    if (type === 'refusal') return { type: 'refusal', refusal: parseWith(refusal, value, where).refusal };
    return unsupported('assistant content part', type ?? String(value), `${where}.type`, ': supported parts are output_text and refusal');
  });
}

function parseItem(value: unknown, index: number): ConversationItem {
  const param = `input.${index}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`Invalid '${param}': expected an input item object`, param);
  const type = typeOf(value) ?? ('role' in value ? 'message' : undefined);
  switch (type) {
    case 'message': {
      const m = parseWith(message, value, param);
      if (m.role === 'assistant') {
        const item: OutputMessageItem = { id: m.id ?? itemId('msg'), type: 'message', role: 'assistant', status: 'completed', content: assistantParts(m.content, `${param}.content`) };
        return item;
      }
      const item: InputMessageItem = { id: m.id ?? itemId('msg'), type: 'message', role: m.role, status: 'completed', content: userParts(m.content, `${param}.content`) };
      return item;
    }
    case 'function_call': {
      const c = parseWith(functionCall, value, param);
      const item: FunctionCallItem = { id: c.id ?? itemId('fc'), type: 'function_call', call_id: c.call_id, name: c.name, arguments: c.arguments, status: 'completed' };
      return item;
    }
    case 'function_call_output': {
      const o = parseWith(functionCallOutput, value, param);
      const output = typeof o.output === 'string' ? o.output : o.output.map((part, i) => {
        const where = `${param}.output.${i}`;
        const partType = typeOf(part);
        if (partType !== 'input_text') unsupported('function_call_output part', partType ?? String(part), `${where}.type`, ': only input_text parts are supported');
        return textPart(part, where);
      });
      const item: FunctionCallOutputItem = { id: o.id ?? itemId('fco'), type: 'function_call_output', call_id: o.call_id, output, status: 'completed' };
      return item;
    }
    case undefined:
      throw badRequest(`Invalid '${param}': an input item needs a 'type' (or a 'role' for a message)`, `${param}.type`);
    case 'item_reference':
      return unsupported('input item', type, `${param}.type`, ": reference earlier turns with 'previous_response_id' instead");
    default:
      return unsupported('input item', type, `${param}.type`, ITEM_HINT);
  }
}

function parseInput(value: unknown): ConversationItem[] {
  if (typeof value === 'string') return [{ id: itemId('msg'), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: value }] }];
  if (!Array.isArray(value)) throw badRequest("Invalid 'input': expected a string or an array of input items", 'input');
  return value.map(parseItem);
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('request body must be a JSON object');
  return body as Record<string, unknown>;
}

const EFFORT: Record<string, ResponsesRequest['reasoningEffort'] | undefined> = { minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' };

export function parseResponsesRequest(raw: unknown): ResponsesRequest {
  const body = requireObject(raw);
  for (const key in body) {
    if (!KNOWN.has(key)) throw badRequest(`Unknown parameter: '${key}'.`, key, 'unknown_parameter');
    const why = UNSUPPORTED_FIELDS[key];
    if (why !== undefined && body[key] != null) throw badRequest(why, key, 'unsupported_parameter');
  }
  const scalars = parseWith(scalarSchema, body, '');
  if (scalars.background) throw badRequest("background responses ('background: true') are not supported by this gateway", 'background', 'unsupported_parameter');
  // Without input, a turn can only continue a stored conversation.
  if (body.input == null && !scalars.previous_response_id) throw badRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  const input = body.input == null ? [] : parseInput(body.input);
  if (input.length === 0 && !scalars.previous_response_id) throw badRequest("Invalid 'input': expected at least one input item", 'input');
  if (body.tools != null && !Array.isArray(body.tools)) throw badRequest("Invalid 'tools': expected an array", 'tools');
  const tools = ((body.tools as unknown[] | null | undefined) ?? []).map(parseTool);
  const format = scalars.text?.format;
  const req: ResponsesRequest = {
    model: scalars.model,
    input,
    tools,
    toolChoice: parseToolChoice(body.tool_choice, tools),
    parallelToolCalls: scalars.parallel_tool_calls ?? true,
    textFormat: format ? (format.type === 'json_schema' ? { ...format, schema: format.schema as JsonObject } : format) : { type: 'text' },
    store: scalars.store ?? true,
    stream: scalars.stream ?? false,
    metadata: scalars.metadata ?? {},
    truncation: scalars.truncation ?? 'disabled',
    routing: {},
  };
  if (scalars.instructions != null) req.instructions = scalars.instructions;
  if (scalars.max_output_tokens != null) req.maxOutputTokens = scalars.max_output_tokens;
  if (scalars.temperature != null) req.temperature = scalars.temperature;
  if (scalars.top_p != null) req.topP = scalars.top_p;
  if (scalars.previous_response_id != null) req.previousResponseId = scalars.previous_response_id;
  if (scalars.user !== undefined) req.user = scalars.user;
  const effort = scalars.reasoning?.effort ? EFFORT[scalars.reasoning.effort] : undefined;
  if (effort) req.reasoningEffort = effort;
  for (const key of ROUTING) if (body[key] !== undefined) req.routing[key] = body[key] as JsonValue;
  return req;
}
