// Gemini generateContent request → canonical ChatRequest, so the simulator can ask the shared engine
// what to answer. The reverse of the adapter's mapping, validated with zod at the simulator's edge.
import { z } from 'zod';
import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  FunctionTool,
  JsonObject,
  JsonValue,
  ToolCall,
  ToolChoice,
} from '../../core/canonical.ts';

const JsonRecord = z.record(z.string(), z.json());

const Part = z.object({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  inlineData: z.object({ mimeType: z.string(), data: z.string() }).optional(),
  fileData: z.object({ mimeType: z.string().optional(), fileUri: z.string() }).optional(),
  functionCall: z.object({ id: z.string().optional(), name: z.string(), args: JsonRecord.optional() }).optional(),
  functionResponse: z.object({ id: z.string().optional(), name: z.string(), response: JsonRecord }).optional(),
});

const Content = z.object({
  role: z.enum(['user', 'model', 'function']).optional(),
  parts: z.array(Part),
});

const FunctionDeclaration = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: JsonRecord.optional(),
  parametersJsonSchema: JsonRecord.optional(),
});

export const GenerateContentRequest = z.object({
  contents: z.array(Content).min(1, 'contents must not be empty'),
  /** Explicit context cache: `cachedContents/{id}`. */
  cachedContent: z.string().min(1).optional(),
  systemInstruction: z.object({ parts: z.array(Part) }).optional(),
  tools: z.array(z.object({ functionDeclarations: z.array(FunctionDeclaration).optional() })).optional(),
  toolConfig: z
    .object({
      functionCallingConfig: z
        .object({ mode: z.string().optional(), allowedFunctionNames: z.array(z.string()).optional() })
        .optional(),
    })
    .optional(),
  generationConfig: z
    .object({
      temperature: z.number().optional(),
      topP: z.number().optional(),
      maxOutputTokens: z.number().int().positive().optional(),
      stopSequences: z.array(z.string()).optional(),
      candidateCount: z.number().int().min(1).max(8).optional(),
      seed: z.number().int().optional(),
      presencePenalty: z.number().optional(),
      frequencyPenalty: z.number().optional(),
      responseMimeType: z.string().optional(),
      responseSchema: JsonRecord.optional(),
      responseJsonSchema: JsonRecord.optional(),
      thinkingConfig: z
        .object({ thinkingBudget: z.number().int().optional(), includeThoughts: z.boolean().optional(), thinkingLevel: z.string().optional() })
        .optional(),
    })
    .optional(),
});

export type GenerateContentInput = z.infer<typeof GenerateContentRequest>;
type PartInput = z.infer<typeof Part>;

export interface ParsedGeminiChat {
  chat: ChatRequest;
  /** Return thought parts (`thinkingConfig.includeThoughts`); thinking is counted either way. */
  includeThoughts: boolean;
  cachedContent?: string;
}

export type ParseResult = { ok: true; value: ParsedGeminiChat } | { ok: false; message: string };

export function parseGeminiChat(body: unknown, model: string): ParseResult {
  const parsed = GenerateContentRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, message: `Invalid JSON payload: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid request'}` };
  }
  return { ok: true, value: toChatRequest(parsed.data, model) };
}

export function toChatRequest(input: GenerateContentInput, model: string): ParsedGeminiChat {
  const messages: ChatMessage[] = [];
  const system = textOf(input.systemInstruction?.parts ?? []);
  if (system) messages.push({ role: 'system', content: system });
  // Gemini calls have no ids: give each one an id and let responses claim them by function name, in order.
  const pending = new Map<string, string[]>();
  input.contents.forEach((content, turn) => {
    if (content.role === 'model') messages.push(modelMessage(content.parts, turn, pending));
    else pushUserParts(messages, content.parts, pending);
  });

  const chat: ChatRequest = { model, messages };
  const tools = toTools(input);
  if (tools.length > 0) chat.tools = tools;
  const choice = toToolChoice(input.toolConfig?.functionCallingConfig);
  if (choice) chat.tool_choice = choice;

  const config = input.generationConfig;
  let includeThoughts = false;
  if (config) {
    if (config.temperature !== undefined) chat.temperature = config.temperature;
    if (config.topP !== undefined) chat.top_p = config.topP;
    if (config.maxOutputTokens !== undefined) chat.max_tokens = config.maxOutputTokens;
    if (config.stopSequences) chat.stop = config.stopSequences;
    if (config.candidateCount !== undefined) chat.n = config.candidateCount;
    if (config.seed !== undefined) chat.seed = config.seed;
    if (config.responseMimeType === 'application/json') {
      const schema = config.responseJsonSchema ?? (config.responseSchema ? lowerTypes(config.responseSchema) : undefined);
      chat.response_format = schema ? { type: 'json_schema', json_schema: { name: 'response', schema } } : { type: 'json_object' };
    }
    const thinking = config.thinkingConfig;
    if (thinking && (thinking.thinkingBudget !== 0 || thinking.thinkingLevel !== undefined)) {
      chat.reasoning_effort = 'medium';
      includeThoughts = thinking.includeThoughts === true;
    }
  }
  return input.cachedContent === undefined ? { chat, includeThoughts } : { chat, includeThoughts, cachedContent: input.cachedContent };
}

function textOf(parts: PartInput[]): string {
  let text = '';
  for (const part of parts) if (part.text !== undefined && part.thought !== true) text += part.text;
  return text;
}

function modelMessage(parts: PartInput[], turn: number, pending: Map<string, string[]>): ChatMessage {
  const toolCalls: ToolCall[] = [];
  for (const part of parts) {
    const call = part.functionCall;
    if (!call) continue;
    const id = `call_sim_${turn}_${toolCalls.length}`;
    toolCalls.push({ id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } });
    const queue = pending.get(call.name);
    if (queue) queue.push(id);
    else pending.set(call.name, [id]);
  }
  const text = textOf(parts);
  return toolCalls.length > 0 ? { role: 'assistant', content: text || null, tool_calls: toolCalls } : { role: 'assistant', content: text };
}

/** A user turn may hold function responses and content; each response becomes a tool message. */
function pushUserParts(messages: ChatMessage[], parts: PartInput[], pending: Map<string, string[]>): void {
  let content: ContentPart[] = [];
  const flush = (): void => {
    if (content.length > 0) messages.push({ role: 'user', content });
    content = [];
  };
  for (const part of parts) {
    if (part.functionResponse) {
      flush();
      const { name, response } = part.functionResponse;
      const id = pending.get(name)?.shift() ?? `call_sim_unmatched_${messages.length}`;
      messages.push({ role: 'tool', tool_call_id: id, content: responseText(response) });
    } else if (part.text !== undefined) {
      content.push({ type: 'text', text: part.text });
    } else if (part.inlineData) {
      content.push({ type: 'image_url', image_url: { url: `data:${part.inlineData.mimeType};base64,${part.inlineData.data}` } });
    } else if (part.fileData) {
      content.push({ type: 'image_url', image_url: { url: part.fileData.fileUri } });
    }
  }
  flush();
}

function responseText(response: JsonObject): string {
  const value: JsonValue | undefined = response.result ?? response.content ?? response.output;
  if (typeof value === 'string') return value;
  return JSON.stringify(value === undefined ? response : value);
}

function toTools(input: GenerateContentInput): FunctionTool[] {
  const tools: FunctionTool[] = [];
  for (const tool of input.tools ?? []) {
    for (const declaration of tool.functionDeclarations ?? []) {
      const parameters = declaration.parametersJsonSchema ?? (declaration.parameters ? lowerTypes(declaration.parameters) : undefined);
      tools.push({
        type: 'function',
        function: { name: declaration.name, ...(declaration.description ? { description: declaration.description } : {}), ...(parameters ? { parameters } : {}) },
      });
    }
  }
  return tools;
}

function toToolChoice(config: { mode?: string; allowedFunctionNames?: string[] } | undefined): ToolChoice | undefined {
  switch (config?.mode) {
    case 'NONE':
      return 'none';
    case 'AUTO':
      return 'auto';
    case 'ANY':
    case 'VALIDATED': {
      const names = config.allowedFunctionNames ?? [];
      return names.length === 1 ? { type: 'function', function: { name: names[0] } } : 'required';
    }
    default:
      return undefined;
  }
}

/** Gemini's OpenAPI-style `type: "STRING"` → JSON Schema's `"string"`, which the engine samples from. */
export function lowerTypes(schema: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && typeof value === 'string') out.type = value.toLowerCase();
    else if ((key === 'items' || key === 'properties') && isObject(value)) out[key] = key === 'items' ? lowerTypes(value) : lowerEach(value);
    else if (key === 'anyOf' && Array.isArray(value)) out.anyOf = value.map((member) => (isObject(member) ? lowerTypes(member) : member));
    else out[key] = value;
  }
  return out;
}

function lowerEach(properties: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(properties)) out[name] = isObject(value) ? lowerTypes(value) : value;
  return out;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
