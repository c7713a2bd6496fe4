// `streamGenerateContent?alt=sse` → canonical chunks. Each SSE event is a whole GenerateContentResponse
// holding only the new parts. Gemini sends no terminal event: the stream is complete once every
// requested candidate has carried a finishReason (that event also carries the final usageMetadata).
import type { ChatCompletionChunk, ChatRequest, ChunkDelta, FinishReason } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import { SseParser, type SseEvent } from '../../core/sse.ts';
import type { StreamDecoder, Target } from '../types.ts';
import { errorFromFields, readGeminiError } from './errors.ts';
import { blockedPromptError, mapFinishReason, readGeminiResponse, readParts, toUsage } from './response.ts';
import { newResponseId } from './toolids.ts';
import type { GeminiCandidate, GeminiResponse, GeminiUsageMetadata } from './wire.ts';

interface CandidateState {
  toolCalls: number;
  finished: boolean;
}

export class GeminiStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private readonly provider: string;
  private readonly expected: number;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly candidates = new Map<number, CandidateState>();
  private id: string | undefined;
  private model: string;
  private usage: GeminiUsageMetadata | undefined;
  private finishedCount = 0;
  private complete = false;

  constructor(
    private readonly target: Target,
    req: ChatRequest,
  ) {
    this.provider = target.endpoint.name;
    this.model = target.model;
    this.expected = Math.max(1, req.n ?? 1);
  }

  push(bytes: Uint8Array): ChatCompletionChunk[] {
    return this.handle(this.sse.push(bytes));
  }

  end(): ChatCompletionChunk[] {
    const chunks = this.handle(this.sse.end());
    if (!this.complete) {
      throw new GatewayError('stream_cut', `${this.provider}: Gemini stream ended before a finishReason`, { provider: this.provider });
    }
    return chunks;
  }

  private handle(events: SseEvent[]): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    for (const event of events) {
      if (event.data.length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(event.data);
      } catch {
        throw new GatewayError('upstream', `${this.provider}: malformed Gemini stream event`, { provider: this.provider, code: 'malformed_stream' });
      }
      const error = readGeminiError(value);
      if (error) {
        if (this.complete) continue;
        throw errorFromFields(error.code ?? 500, error, this.target);
      }
      this.onResponse(readGeminiResponse(value, this.provider), out);
    }
    return out;
  }

  private onResponse(response: GeminiResponse, out: ChatCompletionChunk[]): void {
    if (this.complete) return;
    this.id ??= response.responseId ?? newResponseId();
    if (response.modelVersion) this.model = response.modelVersion;
    if (response.usageMetadata) this.usage = response.usageMetadata;
    const candidates = response.candidates;
    if (!candidates || candidates.length === 0) {
      if (response.promptFeedback?.blockReason) throw blockedPromptError(response, this.provider);
      return;
    }
    for (const candidate of candidates) this.onCandidate(candidate, out);
    if (this.finishedCount >= this.expected) {
      this.complete = true;
      if (this.usage) out.push({ ...this.base(), choices: [], usage: toUsage(this.usage) });
    }
  }

  private onCandidate(candidate: GeminiCandidate, out: ChatCompletionChunk[]): void {
    const index = candidate.index ?? 0;
    const delta: ChunkDelta = {};
    let known = this.candidates.get(index);
    if (!known) {
      known = { toolCalls: 0, finished: false };
      this.candidates.set(index, known);
      delta.role = 'assistant';
    }
    const state = known;
    if (state.finished) return;
    const { text, reasoning, toolCalls } = readParts(candidate.content?.parts);
    if (text.length > 0) delta.content = text;
    if (reasoning.length > 0) delta.reasoning_content = reasoning;
    if (toolCalls.length > 0) {
      // Gemini sends each function call whole: id, name and complete arguments go out in one delta.
      delta.tool_calls = toolCalls.map((call, k) => ({ index: state.toolCalls + k, id: call.id, type: 'function' as const, function: call.function }));
      state.toolCalls += toolCalls.length;
    }
    if (delta.role || delta.content || delta.reasoning_content || delta.tool_calls) out.push(this.chunk(index, delta, null));
    if (candidate.finishReason) {
      state.finished = true;
      this.finishedCount++;
      out.push(this.chunk(index, {}, mapFinishReason(candidate.finishReason, state.toolCalls > 0)));
    }
  }

  private base(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.id ?? '', object: 'chat.completion.chunk', created: this.created, model: this.model };
  }

  private chunk(index: number, delta: ChunkDelta, finishReason: FinishReason | null): ChatCompletionChunk {
    return { ...this.base(), choices: [{ index, delta, finish_reason: finishReason }] };
  }
}
