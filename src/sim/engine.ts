// The format-independent part of every provider simulator: given a canonical request, decide
// deterministically what the "model" answers (text, JSON, tool calls), and how many tokens it used.
// Each wire-format simulator renders this plan in its own format.
import type {
  ChatRequest,
  FinishReason,
  JsonObject,
  JsonValue,
  ToolCall,
  Usage,
} from '../core/canonical.ts';
import { contentText, requestedMaxTokens } from '../core/canonical.ts';

export interface SimChoice {
  /** Text pieces, one per simulated token, concatenated into the answer. Empty for pure tool calls. */
  pieces: string[];
  toolCalls: ToolCall[];
  reasoning: string[];
  finishReason: FinishReason;
}

export interface SimCompletion {
  id: string;
  model: string;
  created: number;
  choices: SimChoice[];
  usage: Usage;
}

export interface SimPlanOptions {
  /** Tokens of text the model writes when nothing caps it. */
  outputTokens: number;
  /** Cached prompt tokens to report (simulates a provider prompt-cache hit). */
  cachedTokens?: number;
  /** Prompt tokens reported as written to the provider's cache (Anthropic cache_creation_input_tokens). */
  cacheWriteTokens?: number;
  /** Of the cache writes, those with the 1-hour TTL. */
  cacheWrite1hTokens?: number;
  /** Tokens of an explicit cached context (Gemini cachedContent) counted into the prompt. */
  extraPromptTokens?: number;
}

const FILLER = (
  'the gateway routes each request to a deployment that meets its constraints and scores best for ' +
  'the chosen strategy while tracking cost latency and health of every provider behind it'
).split(' ');

let idCounter = 0;
export function simId(prefix: string): string {
  idCounter = (idCounter + 1) % 1_000_000_000;
  return `${prefix}${Date.now().toString(36)}${idCounter.toString(36).padStart(6, '0')}`;
}

/** Rough, deterministic prompt token count: the simulators do not need a real tokenizer. */
export function simPromptTokens(req: ChatRequest): number {
  let chars = 0;
  let images = 0;
  for (const message of req.messages) {
    chars += 4;
    if (typeof message.content === 'string') chars += message.content.length;
    else if (Array.isArray(message.content)) {
      for (const part of message.content) {
        if (part.type === 'text') chars += part.text.length;
        else images++;
      }
    }
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) chars += call.function.name.length + call.function.arguments.length;
    }
  }
  for (const tool of req.tools ?? []) chars += JSON.stringify(tool.function).length;
  return Math.max(1, Math.ceil(chars / 4)) + images * 85;
}

/** Splits text into token-like pieces (word plus following space). */
export function splitPieces(text: string): string[] {
  const pieces = text.match(/\S+\s*|\s+/g);
  return pieces ?? [];
}

export function planCompletion(req: ChatRequest, options: SimPlanOptions): SimCompletion {
  const n = Math.max(1, req.n ?? 1);
  const choice = planChoice(req, options);
  const choices: SimChoice[] = [];
  for (let i = 0; i < n; i++) choices.push(choice);
  const completionTokens =
    n * (choice.pieces.length + choice.reasoning.length + choice.toolCalls.reduce((sum, c) => sum + Math.ceil(c.function.arguments.length / 4) + 3, 0));
  const promptTokens = simPromptTokens(req) + (options.extraPromptTokens ?? 0);
  const usage: Usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  const cached = Math.min(options.cachedTokens ?? 0, promptTokens);
  const written = Math.min(options.cacheWriteTokens ?? 0, promptTokens - cached);
  const written1h = Math.min(options.cacheWrite1hTokens ?? 0, written);
  if (written1h > 0) usage.prompt_tokens_details = { cached_tokens: cached, cache_creation_tokens: written, cache_creation_1h_tokens: written1h };
  else if (written > 0) usage.prompt_tokens_details = { cached_tokens: cached, cache_creation_tokens: written };
  else if (cached > 0) usage.prompt_tokens_details = { cached_tokens: cached };
  if (choice.reasoning.length > 0) usage.completion_tokens_details = { reasoning_tokens: n * choice.reasoning.length };
  return { id: simId('sim-'), model: req.model, created: Math.floor(Date.now() / 1000), choices, usage };
}

function planChoice(req: ChatRequest, options: SimPlanOptions): SimChoice {
  const reasoning = req.reasoning_effort ? splitPieces('Let me think about this step by step before answering. ') : [];
  const toolCalls = planToolCalls(req);
  if (toolCalls.length > 0) return { pieces: [], toolCalls, reasoning, finishReason: 'tool_calls' };

  const format = req.response_format;
  const max = requestedMaxTokens(req);
  if (format && format.type !== 'text') {
    const value =
      format.type === 'json_schema' && format.json_schema.schema
        ? sampleFromSchema(format.json_schema.schema)
        : { answer: answerLine(req), model: req.model };
    const pieces = splitPieces(JSON.stringify(value));
    return { pieces, toolCalls: [], reasoning, finishReason: 'stop' };
  }

  let pieces = splitPieces(answerLine(req));
  for (let i = 0; pieces.length < options.outputTokens; i++) pieces.push(`${FILLER[i % FILLER.length]} `);
  if (pieces.length > options.outputTokens && options.outputTokens > 0) pieces = pieces.slice(0, Math.max(options.outputTokens, 1));
  let finishReason: FinishReason = 'stop';
  if (max !== undefined && pieces.length > max) {
    pieces = pieces.slice(0, Math.max(0, max));
    finishReason = 'length';
  }
  const stops = req.stop === undefined ? [] : Array.isArray(req.stop) ? req.stop : [req.stop];
  if (stops.length > 0) {
    const text = pieces.join('');
    let cut = -1;
    for (const stop of stops) {
      const at = stop ? text.indexOf(stop) : -1;
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      pieces = splitPieces(text.slice(0, cut));
      finishReason = 'stop';
    }
  }
  return { pieces, toolCalls: [], reasoning, finishReason };
}

function lastUserText(req: ChatRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const message = req.messages[i];
    if (message.role === 'user') return contentText(message.content);
  }
  return '';
}

function countImages(req: ChatRequest): number {
  let images = 0;
  for (const message of req.messages) {
    if (message.role === 'user' && Array.isArray(message.content)) {
      for (const part of message.content) if (part.type === 'image_url') images++;
    }
  }
  return images;
}

function answerLine(req: ChatRequest): string {
  const last = req.messages[req.messages.length - 1];
  if (last?.role === 'tool') return `Tool result received: ${contentText(last.content).slice(0, 80)}. `;
  const images = countImages(req);
  const seen = images > 0 ? ` I see ${images} image${images > 1 ? 's' : ''}.` : '';
  const prompt = lastUserText(req).replace(/\s+/g, ' ').trim().slice(0, 60);
  return `Simulated reply from ${req.model} to "${prompt}".${seen} `;
}

function planToolCalls(req: ChatRequest): ToolCall[] {
  const tools = req.tools ?? [];
  if (tools.length === 0 || req.tool_choice === 'none') return [];
  if (req.messages[req.messages.length - 1]?.role === 'tool') return [];
  let chosen = tools;
  const choice = req.tool_choice;
  if (choice && typeof choice === 'object') {
    chosen = tools.filter((t) => t.function.name === choice.function.name);
  } else {
    // Call every tool the user names, in parallel; otherwise the first one.
    const text = lastUserText(req);
    const named = tools.filter((t) => text.includes(t.function.name));
    chosen = named.length > 0 ? named : tools.slice(0, 1);
    if (req.parallel_tool_calls === false) chosen = chosen.slice(0, 1);
  }
  return chosen.map((tool, i) => ({
    id: `call_${simId('')}${i}`,
    type: 'function' as const,
    function: { name: tool.function.name, arguments: JSON.stringify(sampleFromSchema(tool.function.parameters ?? {})) },
  }));
}

/** Builds a value that satisfies a JSON Schema well enough for tests: required fields, types, enums. */
export function sampleFromSchema(schema: JsonObject, depth = 0): JsonValue {
  if (depth > 6) return null;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const anyOf = (schema.anyOf ?? schema.oneOf) as JsonValue;
  if (Array.isArray(anyOf) && anyOf.length > 0 && isObject(anyOf[0])) return sampleFromSchema(anyOf[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return 'sample';
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return isObject(schema.items) ? [sampleFromSchema(schema.items, depth + 1)] : [];
    default: {
      const props = isObject(schema.properties) ? schema.properties : {};
      const out: JsonObject = {};
      for (const [key, value] of Object.entries(props)) if (isObject(value)) out[key] = sampleFromSchema(value, depth + 1);
      return out;
    }
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** FNV-1a of a string, as the seed of a word's pseudo-random direction. */
function fnv1a(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0 || 1;
}

/** Adds `weight` times the word's pseudo-random direction (xorshift from its hash) to `out`. */
function addDirection(out: number[], seed: number, weight: number): void {
  let state = seed;
  for (let i = 0; i < out.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] += weight * (state / 4294967296 - 0.5);
  }
}

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Deterministic unit-length embedding of a text: the sum of one pseudo-random direction per distinct
 * word (lower-cased), so texts sharing most of their words are close (cosine ≈ shared fraction) and
 * unrelated texts are nearly orthogonal, like a real embedding model at a much coarser grain. A text
 * without words gets the direction of its whole string.
 */
export function simEmbedding(text: string, dimensions: number): number[] {
  const counts = new Map<string, number>();
  for (const match of text.toLowerCase().matchAll(WORD)) counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
  const out = new Array<number>(dimensions).fill(0);
  if (counts.size === 0) addDirection(out, fnv1a(text), 1);
  for (const [word, n] of counts) addDirection(out, fnv1a(word), n);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += out[i] * out[i];
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) out[i] = Math.round(out[i] * scale * 1e6) / 1e6;
  return out;
}

/** Roughly one token per four characters, at least one. */
export function simTextTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
