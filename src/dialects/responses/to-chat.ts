// A Responses request (plus the stored conversation it continues) → the canonical Chat Completions
// request every provider adapter understands. See docs/responses-api.md for the mapping table.
import type { AssistantMessage, ChatMessage, ChatRequest, ContentPart, FunctionTool, ResponseFormat, ToolChoice } from '../../core/canonical.ts';
import type { ResponsesRequest } from './request.ts';
import type { ConversationItem, InputMessageItem, OutputMessageItem, ResponsesFunctionTool, ResponsesTextFormat, ResponsesToolChoice } from './types.ts';

function userContent(item: InputMessageItem): string | ContentPart[] {
  const parts = item.content;
  if (parts.length === 1 && parts[0].type === 'input_text') return parts[0].text;
  return parts.map((p): ContentPart => (p.type === 'input_text' ? { type: 'text', text: p.text } : { type: 'image_url', image_url: { url: p.image_url, detail: p.detail } }));
}

function joinedText(item: InputMessageItem): string {
  let text = '';
  for (const part of item.content) if (part.type === 'input_text') text += text ? `\n${part.text}` : part.text;
  return text;
}

/** The assistant's visible text; a refusal is kept as text so the next turn still sees what was said. */
function assistantText(item: OutputMessageItem): string {
  let text = '';
  for (const part of item.content) text += part.type === 'output_text' ? part.text : part.refusal;
  return text;
}

/** Conversation items → chat messages; consecutive function calls join the assistant turn before them. */
export function itemsToMessages(items: readonly ConversationItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const item of items) {
    switch (item.type) {
      case 'message':
        if (item.role === 'assistant') messages.push({ role: 'assistant', content: assistantText(item) });
        else if (item.role === 'user') messages.push({ role: 'user', content: userContent(item) });
        else messages.push({ role: item.role, content: joinedText(item) });
        break;
      case 'function_call': {
        const call = { id: item.call_id, type: 'function' as const, function: { name: item.name, arguments: item.arguments } };
        const last = messages.at(-1);
        if (last?.role === 'assistant') (last.tool_calls ??= []).push(call);
        else messages.push({ role: 'assistant', content: null, tool_calls: [call] } satisfies AssistantMessage);
        break;
      }
      case 'function_call_output':
        messages.push({
          role: 'tool',
          tool_call_id: item.call_id,
          content: typeof item.output === 'string' ? item.output : item.output.map((p) => p.text).join(''),
        });
        break;
    }
  }
  return messages;
}

/**
 * Rough size in characters of stored items, for the gateway's context-window pre-flight (which only
 * tokenizes when the request is large): history is loaded server-side, so the client's body alone
 * would understate it.
 */
export function itemsChars(items: readonly ConversationItem[]): number {
  let chars = 0;
  for (const item of items) {
    if (item.type === 'function_call') chars += item.name.length + item.arguments.length + 32;
    else if (item.type === 'function_call_output') chars += (typeof item.output === 'string' ? item.output.length : item.output.reduce((n, p) => n + p.text.length, 0)) + 32;
    else for (const part of item.content) chars += (part.type === 'input_image' ? part.image_url.length : part.type === 'refusal' ? part.refusal.length : part.text.length) + 16;
  }
  return chars;
}

function chatTool(tool: ResponsesFunctionTool): FunctionTool {
  const fn: FunctionTool['function'] = { name: tool.name };
  if (tool.description != null) fn.description = tool.description;
  if (tool.parameters) fn.parameters = tool.parameters;
  if (tool.strict != null) fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function chatToolChoice(choice: ResponsesToolChoice): ToolChoice {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

function responseFormat(format: ResponsesTextFormat): ResponseFormat | undefined {
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const schema: Extract<ResponseFormat, { type: 'json_schema' }>['json_schema'] = { name: format.name, schema: format.schema };
      if (format.description !== undefined) schema.description = format.description;
      if (format.strict != null) schema.strict = format.strict;
      return { type: 'json_schema', json_schema: schema };
    }
  }
}

/**
 * `history` is what `previous_response_id` brings back (that response's input and output); the
 * previous turn's instructions are not carried over, as in OpenAI's API.
 */
export function toChatRequest(req: ResponsesRequest, history: readonly ConversationItem[]): ChatRequest {
  const messages: ChatMessage[] = [];
  if (req.instructions) messages.push({ role: 'system', content: req.instructions });
  messages.push(...itemsToMessages(history), ...itemsToMessages(req.input));
  const chat: ChatRequest = { model: req.model, messages };
  if (req.stream) {
    chat.stream = true;
    // The final `response.completed` event reports usage, so ask every provider for it.
    chat.stream_options = { include_usage: true };
  }
  if (req.tools.length > 0) {
    chat.tools = req.tools.map(chatTool);
    chat.tool_choice = chatToolChoice(req.toolChoice);
    if (!req.parallelToolCalls) chat.parallel_tool_calls = false;
  }
  const format = responseFormat(req.textFormat);
  if (format) chat.response_format = format;
  if (req.maxOutputTokens !== undefined) chat.max_completion_tokens = req.maxOutputTokens;
  if (req.temperature !== undefined) chat.temperature = req.temperature;
  if (req.topP !== undefined) chat.top_p = req.topP;
  if (req.reasoningEffort !== undefined) chat.reasoning_effort = req.reasoningEffort;
  if (req.user !== undefined) chat.user = req.user;
  return chat;
}
