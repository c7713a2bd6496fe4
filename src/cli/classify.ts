// `switchyard classify`: scores prompts with the complexity classifier, streaming JSON lines.
//   in:  {"id": …, "prompt": "…"}  or  {"id": …, "messages": [...]}  (optional "tools"/"images" counts)
//   out: {"id": …, "score": 0.42}   or, for a line that cannot be scored, {"id": … | null, "error": "…"}
// One output line per non-blank input line, in order; a bad line never stops the stream.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { ChatMessage } from '../core/canonical.ts';
import { ComplexityClassifier, type ClassifierInput } from '../routing/complexity/classifier.ts';

type Id = string | number | null;

function idOf(value: unknown): Id {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) ? value : null;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function validMessages(value: unknown): value is ChatMessage[] {
  if (!Array.isArray(value)) return false;
  for (const m of value) {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return false;
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.has(role)) return false;
    if (content !== undefined && content !== null && typeof content !== 'string') {
      if (!Array.isArray(content)) return false;
      for (const part of content) {
        if (part === null || typeof part !== 'object') return false;
        const { type, text } = part as { type?: unknown; text?: unknown };
        if (type === 'text' && typeof text !== 'string') return false;
        if (type !== 'text' && type !== 'image_url') return false;
      }
    }
  }
  return true;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
}

/** Scores one input line; never throws. */
export function classifyLine(line: string, classifier: ComplexityClassifier): { id: Id; score: number } | { id: Id; error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return { id: null, error: `invalid JSON: ${(err as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { id: null, error: 'expected a JSON object' };
  const obj = parsed as Record<string, unknown>;
  const id = idOf(obj.id);
  const input: ClassifierInput = { tools: count(obj.tools), images: count(obj.images) };
  if (typeof obj.prompt === 'string') input.prompt = obj.prompt;
  else if (obj.prompt !== undefined) return { id, error: '"prompt" must be a string' };
  else if (obj.messages !== undefined) {
    if (!validMessages(obj.messages)) return { id, error: '"messages" must be an array of chat messages ({"role", "content"})' };
    input.messages = obj.messages;
  } else return { id, error: 'expected "prompt" (string) or "messages" (array)' };
  try {
    const score = classifier.score(input);
    return { id, score: Math.round(score * 1e6) / 1e6 };
  } catch (err) {
    return { id, error: `classifier failed: ${(err as Error).message}` };
  }
}

/** Reads JSON lines from `input` and writes one result line per non-blank line to `output`, in order. */
export async function classify(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, classifier: ComplexityClassifier = ComplexityClassifier.default()): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const result = classifyLine(line, classifier);
    if (!output.write(`${JSON.stringify(result)}\n`)) await once(output, 'drain');
  }
}
