import type { ChatCompletionChunk, ChatRequest } from '../../core/canonical.ts';
import type { GatewayError } from '../../core/errors.ts';
import type { StreamEncoder } from '../types.ts';

/** OpenAI SSE: one `data:` event per chunk, `[DONE]` at the end, an `error` object on failure. */
export class OpenAIStreamEncoder implements StreamEncoder {
  constructor(private readonly includeUsage: boolean) {}

  chunk(chunk: ChatCompletionChunk): string {
    if (!this.includeUsage) {
      if (chunk.choices.length === 0) return '';
      if (chunk.usage) {
        const { usage: _usage, ...rest } = chunk;
        return `data: ${JSON.stringify(rest)}\n\n`;
      }
    }
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }

  end(): string {
    return 'data: [DONE]\n\n';
  }

  error(err: GatewayError): string {
    return `data: ${JSON.stringify(err.toOpenAI())}\n\n`;
  }
}

export function createOpenAIStreamEncoder(req: ChatRequest): StreamEncoder {
  return new OpenAIStreamEncoder(req.stream_options?.include_usage === true);
}
