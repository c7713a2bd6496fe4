// Validation of OpenAI-dialect request bodies. Known fields are checked strictly; unknown top-level
// fields are kept aside (`extra`) and passed through to providers that accept them.
import { z } from 'zod';
import { MAX_OUTPUT_TOKENS, REASONING_EFFORTS, type ChatRequest, type EmbeddingsRequest, type JsonValue } from '../../core/canonical.ts';
import { badRequest, GatewayError } from '../../core/errors.ts';
import { assertJsonSchema } from '../json-schema.ts';
import { plainChatRequest } from './plain-chat.ts';

const cacheControl = z.object({ type: z.literal('ephemeral'), ttl: z.string().optional() });
const textPart = z.object({ type: z.literal('text'), text: z.string(), cache_control: cacheControl.optional() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const contentPart = z.discriminatedUnion('type', [textPart, imagePart]);
const textContent = z.union([z.string(), z.array(textPart)]);

const toolCall = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer']), content: textContent, name: z.string().optional() }),
  z.object({ role: z.literal('user'), content: z.union([z.string(), z.array(contentPart)]), name: z.string().optional() }),
  z.object({
    role: z.literal('assistant'),
    content: textContent.nullable().optional(),
    tool_calls: z.array(toolCall).optional(),
    name: z.string().optional(),
    refusal: z.string().nullable().optional(),
    reasoning_content: z.string().optional(),
  }),
  z.object({ role: z.literal('tool'), content: textContent, tool_call_id: z.string() }),
]);

const jsonObject = z.record(z.string(), z.json());

const functionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names must be 1-64 characters of a-z, A-Z, 0-9, _ and -'),
    description: z.string().optional(),
    parameters: jsonObject.optional(),
    strict: z.boolean().nullable().optional(),
  }),
  cache_control: cacheControl.optional(),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string(),
      description: z.string().optional(),
      schema: jsonObject.optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);


const chatFields = {
  model: z.string().min(1),
  messages: z.array(message).min(1, 'messages must contain at least one message'),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  tools: z.array(functionTool).max(512).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: responseFormat.optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_tokens: z.number().int().min(1).max(MAX_OUTPUT_TOKENS).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).max(MAX_OUTPUT_TOKENS).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  user: z.string().optional(),
  reasoning_effort: z.enum(REASONING_EFFORTS).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
};
const chatSchema = z.object(chatFields);
const CHAT_KEYS = new Set(Object.keys(chatFields));

const embeddingsFields = {
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(2048),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1).max(2048),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).max(65536).optional(),
  user: z.string().optional(),
};
const embeddingsSchema = z.object(embeddingsFields);
const EMBEDDINGS_KEYS = new Set(Object.keys(embeddingsFields));

/** Turns the first zod issue into an OpenAI-style 400 naming the field. */
export function zodToBadRequest(error: z.ZodError): GatewayError {
  const issue = error.issues[0];
  const param = issue.path.map(String).join('.');
  let message = issue.message;
  if (issue.code === 'invalid_union' || (issue.code === 'invalid_value' && param.endsWith('type'))) {
    message = `unsupported or invalid value at '${param}'`;
  }
  return badRequest(param ? `Invalid '${param}': ${message}` : message, param || undefined);
}

function splitKnown(body: Record<string, unknown>, known: Set<string>): [Record<string, unknown>, Record<string, JsonValue> | undefined] {
  let extra: Record<string, JsonValue> | undefined;
  let known_: Record<string, unknown> | undefined;
  for (const key in body) {
    if (known.has(key)) continue;
    extra ??= {};
    extra[key] = body[key] as JsonValue;
  }
  if (!extra) return [body, undefined];
  known_ = {};
  for (const key in body) if (known.has(key)) known_[key] = body[key];
  return [known_, extra];
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** Drops explicit nulls, which OpenAI treats as "not set". */
function dropNulls<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] === null) delete value[key];
  return value;
}

export function parseChatRequest(body: unknown): ChatRequest {
  const [known, extra] = splitKnown(requireObject(body), CHAT_KEYS);
  const req = plainChatRequest(known) ?? schemaChatRequest(known);
  if (extra) req.extra = extra;
  if (req.tool_choice && typeof req.tool_choice === 'object' && !req.tools?.some((t) => t.function.name === (req.tool_choice as { function: { name: string } }).function.name)) {
    throw badRequest(`tool_choice names a function that is not in 'tools'`, 'tool_choice');
  }
  if (req.stream_options && !req.stream) throw badRequest("'stream_options' is only allowed when 'stream' is true", 'stream_options');
  req.tools?.forEach((t, i) => t.function.parameters !== undefined && assertJsonSchema(t.function.parameters, `tools.${i}.function.parameters`));
  if (req.response_format?.type === 'json_schema' && req.response_format.json_schema.schema !== undefined) {
    assertJsonSchema(req.response_format.json_schema.schema, 'response_format.json_schema.schema');
  }
  return req;
}

/** The schema's path: every body the plain path does not take, and every error message. */
export function schemaChatRequest(known: Record<string, unknown>): ChatRequest {
  const result = chatSchema.safeParse(known);
  if (!result.success) throw zodToBadRequest(result.error);
  return dropNulls(result.data) as ChatRequest;
}

export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  const [known, extra] = splitKnown(requireObject(body), EMBEDDINGS_KEYS);
  const result = embeddingsSchema.safeParse(known);
  if (!result.success) throw zodToBadRequest(result.error);
  const req = result.data as EmbeddingsRequest;
  if (extra) req.extra = extra;
  return req;
}
