// Offline prompt-token estimates (o200k_base, the GPT-4o/GPT-5 encoding) for pre-flight cost and
// context-window checks. Other vendors' tokenizers differ by roughly ±20%, so these are estimates.
import { createRequire } from 'node:module';
import type { ChatMessage, ChatRequest, ContentPart, TextPart } from '../core/canonical.ts';

/**
 * Texts longer than this many UTF-16 code units are estimated as chars/4 instead of run through BPE, and a
 * request stops using BPE once this many characters have been tokenized exactly. BPE costs ~1 ms per 30 KB of
 * prose but ~20 ms per 16 KB of random-looking text, so the cap bounds the hot-path cost of one request.
 */
export const EXACT_TOKENIZE_MAX_CHARS = 16_384;
/** OpenAI's rule of thumb for English: one token is about four characters. */
const CHARS_PER_TOKEN = 4;

/** OpenAI cookbook: each message costs 3 tokens of framing, a `name` 1 more, and 3 prime the reply. */
export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const REPLY_PRIMING_TOKENS = 3;
/** Fixed image estimates (GPT-4o tile formula): low detail is 85; auto/high assumes 1024x1024 = 85 + 4 x 170. */
export const IMAGE_TOKENS_LOW = 85;
export const IMAGE_TOKENS_HIGH = 765;
/** Framing around each assistant tool call (id, type, name separators). */
const TOKENS_PER_TOOL_CALL = 3;

// The encoding's tables take ~65 MB of memory; they are loaded on the first exact count, which the
// request path reaches only for prompts near a context window or answers without usage.
type CountTokens = (text: string, options: { disallowedSpecial: Set<string> }) => number;
let loaded: CountTokens | undefined;
function countTokens(text: string, options: { disallowedSpecial: Set<string> }): number {
  loaded ??= (createRequire(import.meta.url)('gpt-tokenizer/encoding/o200k_base') as { countTokens: CountTokens }).countTokens;
  return loaded(text, options);
}

// User text may contain strings like `<|endoftext|>`; count them as plain text instead of throwing.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

function approxTokens(length: number): number {
  return Math.ceil(length / CHARS_PER_TOKEN);
}

/** Tokens in `text`: exact BPE up to EXACT_TOKENIZE_MAX_CHARS characters, chars/4 beyond. */
export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  if (text.length > EXACT_TOKENIZE_MAX_CHARS) return approxTokens(text.length);
  return countTokens(text, PLAIN_TEXT);
}

/** Remaining exact-tokenization budget of one request, in characters. */
interface Budget {
  chars: number;
}

function budgetedTokens(text: string, budget: Budget): number {
  if (text.length === 0) return 0;
  if (text.length > budget.chars) return approxTokens(text.length);
  budget.chars -= text.length;
  return countTokens(text, PLAIN_TEXT);
}

function partsTokens(parts: readonly (ContentPart | TextPart)[], budget: Budget): number {
  let n = 0;
  for (const part of parts) {
    if (part.type === 'text') n += budgetedTokens(part.text, budget);
    else n += part.image_url.detail === 'low' ? IMAGE_TOKENS_LOW : IMAGE_TOKENS_HIGH;
  }
  return n;
}

function contentTokens(content: string | readonly (ContentPart | TextPart)[] | null | undefined, budget: Budget): number {
  if (content == null) return 0;
  return typeof content === 'string' ? budgetedTokens(content, budget) : partsTokens(content, budget);
}

function messageTokens(message: ChatMessage, budget: Budget): number {
  let n = TOKENS_PER_MESSAGE + contentTokens(message.content, budget);
  if ('name' in message && message.name !== undefined) n += TOKENS_PER_NAME;
  if (message.role === 'assistant' && message.tool_calls !== undefined) {
    for (const call of message.tool_calls) {
      n += TOKENS_PER_TOOL_CALL + budgetedTokens(call.function.name, budget) + budgetedTokens(call.function.arguments, budget);
    }
  }
  return n;
}

/** Tools and JSON schemas are counted as their JSON text, which slightly overstates OpenAI's own rendering. */
function definitionTokens(req: ChatRequest, budget: Budget): number {
  let n = 0;
  if (req.tools !== undefined) {
    for (const tool of req.tools) n += budgetedTokens(JSON.stringify(tool.function), budget);
  }
  const format = req.response_format;
  if (format?.type === 'json_schema') n += budgetedTokens(JSON.stringify(format.json_schema), budget);
  return n;
}

/** Estimated prompt tokens of a chat request: messages with framing, images, tool definitions and schema. */
export function estimatePromptTokens(req: ChatRequest): number {
  const budget: Budget = { chars: EXACT_TOKENIZE_MAX_CHARS };
  let n = REPLY_PRIMING_TOKENS;
  for (const message of req.messages) n += messageTokens(message, budget);
  return n + definitionTokens(req, budget);
}

/**
 * A tokenizer-free prompt size for ranking candidates on the hot path: characters / 4 plus fixed
 * image costs. Within a few tens of percent of `estimatePromptTokens`, at a fraction of its cost.
 */
export function approxPromptTokens(req: ChatRequest): number {
  let chars = 0;
  let images = 0;
  for (const message of req.messages) {
    chars += 12;
    const content = message.content;
    if (typeof content === 'string') chars += content.length;
    else if (content) {
      for (const part of content) {
        if (part.type === 'text') chars += part.text.length;
        else images += part.image_url.detail === 'low' ? IMAGE_TOKENS_LOW : IMAGE_TOKENS_HIGH;
      }
    }
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) chars += call.function.name.length + call.function.arguments.length;
    }
  }
  if (req.tools) for (const tool of req.tools) chars += 40 + (tool.function.description?.length ?? 0) + (tool.function.parameters ? 200 : 0);
  return Math.ceil(chars / 4) + images + REPLY_PRIMING_TOKENS;
}
