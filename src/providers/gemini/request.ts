// Canonical (OpenAI Chat Completions) request → Gemini generateContent request, plus the endpoint
// paths and auth headers of both flavours: Google AI (`x-goog-api-key`) and Vertex AI (Bearer token).
// Vertex tokens are taken as configured; refreshing them is out of scope for the adapter.
import type {
  AssistantMessage,
  ChatRequest,
  ContentPart,
  FunctionTool,
  JsonObject,
  JsonValue,
  ReasoningEffort,
  TextPart,
  ToolChoice,
  ToolMessage,
} from '../../core/canonical.ts';
import { contentText, requestedMaxTokens } from '../../core/canonical.ts';
import { GatewayError, badRequest } from '../../core/errors.ts';
import type { Target, UpstreamRequest } from '../types.ts';
import { isJsonObject, toGeminiParameters, toGeminiSchema } from './schema.ts';
import { signatureFromToolCallId } from './toolids.ts';
import type { GeminiContent, GeminiGenerationConfig, GeminiPart, GeminiRequest, GeminiRole, GeminiTool, GeminiToolConfig } from './wire.ts';

const GOOGLE_AI_VERSIONS = ['/v1beta', '/v1', '/v1alpha'];
const VERTEX_VERSIONS = ['/v1', '/v1beta1'];
const DEFAULT_VERTEX_LOCATION = 'us-central1';

/**
 * reasoning_effort → thinkingBudget (tokens). low/medium/high are the budgets Google's own OpenAI
 * compatibility layer uses; minimal is 512, the smallest budget every Gemini 2.5 model accepts
 * (0 would switch thinking off, which 2.5 Pro rejects).
 */
export const THINKING_BUDGET: Record<ReasoningEffort, number> = { minimal: 512, low: 1024, medium: 8192, high: 24576 };

/**
 * Gemini 3 rejects a replayed functionCall without the thought signature it was issued with. History
 * Gemini did not produce (another provider, a fallback) has none; Google documents this value for it.
 */
export const FOREIGN_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

type NumericParam = 'temperature' | 'top_p' | 'n' | 'seed' | 'presence_penalty' | 'frequency_penalty';
type NumericConfig = 'temperature' | 'topP' | 'candidateCount' | 'seed' | 'presencePenalty' | 'frequencyPenalty';

const NUMERIC_PARAMS: ReadonlyArray<readonly [NumericParam, NumericConfig]> = [
  ['temperature', 'temperature'],
  ['top_p', 'topP'],
  ['n', 'candidateCount'],
  ['seed', 'seed'],
  ['presence_penalty', 'presencePenalty'],
  ['frequency_penalty', 'frequencyPenalty'],
];

const MIME_BY_EXTENSION = new Map([
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['png', 'image/png'],
  ['gif', 'image/gif'],
  ['webp', 'image/webp'],
  ['heic', 'image/heic'],
  ['heif', 'image/heif'],
  ['pdf', 'application/pdf'],
]);

function versionedBase(basePath: string, versions: string[], fallback: string): string {
  for (const version of versions) if (basePath.endsWith(version)) return basePath;
  return basePath + fallback;
}

/** `…/models/{model}` for Google AI, `…/publishers/google/models/{model}` for Vertex; a model id with a
 * slash (`tunedModels/x`, `endpoints/123`) is taken as a full resource name. */
export function modelPath(target: Target): string {
  const { endpoint, model } = target;
  if (endpoint.type === 'vertex') {
    if (!endpoint.project) {
      throw new GatewayError('internal', `${endpoint.name}: vertex endpoint has no project configured`, { provider: endpoint.name, code: 'config_error' });
    }
    const base = versionedBase(endpoint.basePath, VERTEX_VERSIONS, '/v1');
    const resource = model.includes('/') ? model : `publishers/google/models/${model}`;
    return `${base}/projects/${endpoint.project}/locations/${endpoint.location ?? DEFAULT_VERTEX_LOCATION}/${resource}`;
  }
  return `${versionedBase(endpoint.basePath, GOOGLE_AI_VERSIONS, '/v1beta')}/${googleModelName(model)}`;
}

/** `models/{model}`, the resource name Google AI expects inside batch bodies. */
export function googleModelName(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}

export function geminiHeaders(target: Target): Record<string, string> {
  const { endpoint } = target;
  const headers: Record<string, string> = { ...endpoint.headers, 'content-type': 'application/json' };
  if (endpoint.apiKey) {
    if (endpoint.type === 'vertex') headers.authorization = `Bearer ${endpoint.apiKey}`;
    else headers['x-goog-api-key'] = endpoint.apiKey;
  }
  return headers;
}

export function chatRequest(req: ChatRequest, target: Target): UpstreamRequest {
  const method = req.stream ? ':streamGenerateContent?alt=sse' : ':generateContent';
  return {
    method: 'POST',
    path: modelPath(target) + method,
    headers: geminiHeaders(target),
    body: JSON.stringify(toGeminiRequest(req)),
  };
}

export function toGeminiRequest(req: ChatRequest): GeminiRequest {
  rejectUnsupported(req);
  const { contents, system } = toContents(req);
  const body: GeminiRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (req.tools && req.tools.length > 0) {
    body.tools = toTools(req.tools);
    if (req.tool_choice !== undefined) body.toolConfig = toToolConfig(req.tool_choice);
  }
  const config = toGenerationConfig(req);
  if (config) body.generationConfig = config;
  const cached = req.extra?.cached_content;
  if (typeof cached === 'string' && cached.length > 0) body.cachedContent = cached;
  return body;
}

function rejectUnsupported(req: ChatRequest): void {
  if (req.logprobs) throw badRequest('logprobs is not supported by Gemini deployments', 'logprobs', 'unsupported_parameter');
  if (req.top_logprobs != null) throw badRequest('top_logprobs is not supported by Gemini deployments', 'top_logprobs', 'unsupported_parameter');
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) {
    throw badRequest('logit_bias is not supported by Gemini deployments', 'logit_bias', 'unsupported_parameter');
  }
}

/** Gemini has one system instruction and strictly alternating user/model turns: system and developer
 * messages (wherever they appear) feed the instruction, and consecutive same-role turns are merged. */
function toContents(req: ChatRequest): { contents: GeminiContent[]; system: GeminiPart[] } {
  const contents: GeminiContent[] = [];
  const system: GeminiPart[] = [];
  const callNames = new Map<string, string>();
  const append = (role: GeminiRole, parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  req.messages.forEach((message, i) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        pushText(system, message.content);
        break;
      case 'user':
        append('user', userParts(message.content, i));
        break;
      case 'assistant':
        append('model', assistantParts(message, i, callNames));
        break;
      case 'tool':
        append('user', [toolResponsePart(message, i, callNames)]);
        break;
    }
  });
  if (contents.length === 0) throw badRequest('at least one user or assistant message with content is required', 'messages');
  return { contents, system };
}

/** Gemini rejects empty text parts, so empty strings are skipped. */
function pushText(parts: GeminiPart[], content: string | TextPart[] | null | undefined): void {
  if (typeof content === 'string') {
    if (content.length > 0) parts.push({ text: content });
  } else if (content) {
    for (const part of content) if (part.text.length > 0) parts.push({ text: part.text });
  }
}

function userParts(content: string | ContentPart[], i: number): GeminiPart[] {
  const parts: GeminiPart[] = [];
  if (typeof content === 'string') {
    pushText(parts, content);
    return parts;
  }
  content.forEach((part, j) => {
    if (part.type === 'text') {
      if (part.text.length > 0) parts.push({ text: part.text });
    } else parts.push(imagePart(part.image_url.url, `messages[${i}].content[${j}].image_url.url`));
  });
  return parts;
}

export function imagePart(url: string, param: string): GeminiPart {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const meta = comma === -1 ? '' : url.slice(5, comma);
    if (!meta.endsWith(';base64')) throw badRequest('image data URLs must be base64-encoded (data:<mime>;base64,…)', param);
    const semicolon = meta.indexOf(';');
    return { inlineData: { mimeType: meta.slice(0, semicolon) || 'image/jpeg', data: url.slice(comma + 1) } };
  }
  if (url.startsWith('https://') || url.startsWith('http://') || url.startsWith('gs://')) {
    return { fileData: { mimeType: guessMimeType(url), fileUri: url } };
  }
  throw badRequest('image_url must be a base64 data URL or an http(s) URL', param);
}

/** From the URL path's extension; image/jpeg when there is none or it is unknown. */
export function guessMimeType(url: string): string {
  let end = url.indexOf('?');
  if (end === -1) end = url.length;
  const hash = url.indexOf('#');
  if (hash !== -1 && hash < end) end = hash;
  const dot = url.lastIndexOf('.', end - 1);
  if (dot === -1 || url.lastIndexOf('/', end - 1) > dot) return 'image/jpeg';
  return MIME_BY_EXTENSION.get(url.slice(dot + 1, end).toLowerCase()) ?? 'image/jpeg';
}

function assistantParts(message: AssistantMessage, i: number, callNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  pushText(parts, message.content);
  message.tool_calls?.forEach((call, j) => {
    callNames.set(call.id, call.function.name);
    const part: GeminiPart = {
      functionCall: { name: call.function.name, args: parseArguments(call.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`) },
    };
    const signature = signatureFromToolCallId(call.id) ?? (j === 0 ? FOREIGN_THOUGHT_SIGNATURE : undefined);
    if (signature) part.thoughtSignature = signature;
    parts.push(part);
  });
  return parts;
}

function parseArguments(raw: string, param: string): JsonObject {
  if (raw.trim().length === 0) return {};
  let value: JsonValue;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    throw badRequest('tool call arguments must be a JSON object', param);
  }
  if (!isJsonObject(value)) throw badRequest('tool call arguments must be a JSON object', param);
  return value;
}

function toolResponsePart(message: ToolMessage, i: number, callNames: Map<string, string>): GeminiPart {
  const name = callNames.get(message.tool_call_id);
  if (name === undefined) {
    throw badRequest(`tool message answers unknown tool_call_id '${message.tool_call_id}'`, `messages[${i}].tool_call_id`);
  }
  return { functionResponse: { name, response: toolResponse(contentText(message.content)) } };
}

/** JSON tool output travels as `{content: value}`; anything else as `{result: text}`. */
function toolResponse(text: string): JsonObject {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { content: JSON.parse(text) as JsonValue };
    } catch {
      // Not JSON after all: sent as text below.
    }
  }
  return { result: text };
}

function toTools(tools: FunctionTool[]): GeminiTool[] {
  return [
    {
      functionDeclarations: tools.map(({ function: fn }) => {
        const parameters = fn.parameters ? toGeminiParameters(fn.parameters) : undefined;
        return {
          name: fn.name,
          ...(fn.description ? { description: fn.description } : {}),
          ...(parameters ? { parameters } : {}),
        };
      }),
    },
  ];
}

function toToolConfig(choice: ToolChoice): GeminiToolConfig {
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
}

function toGenerationConfig(req: ChatRequest): GeminiGenerationConfig | undefined {
  const config: GeminiGenerationConfig = {};
  let set = false;
  for (const [from, to] of NUMERIC_PARAMS) {
    const value = req[from];
    if (value != null) {
      config[to] = value;
      set = true;
    }
  }
  const maxTokens = requestedMaxTokens(req);
  if (maxTokens != null) {
    config.maxOutputTokens = maxTokens;
    set = true;
  }
  if (req.stop != null) {
    config.stopSequences = typeof req.stop === 'string' ? [req.stop] : req.stop;
    set = true;
  }
  const format = req.response_format;
  if (format && format.type !== 'text') {
    config.responseMimeType = 'application/json';
    if (format.type === 'json_schema' && format.json_schema.schema) config.responseSchema = toGeminiSchema(format.json_schema.schema);
    set = true;
  }
  if (req.reasoning_effort) {
    config.thinkingConfig = { thinkingBudget: THINKING_BUDGET[req.reasoning_effort], includeThoughts: true };
    set = true;
  }
  return set ? config : undefined;
}
