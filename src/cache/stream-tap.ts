// Captures a streamed answer for the cache. It reads the bytes the client received (whatever path
// produced them: the same-dialect relay or a translation), decodes them with the client dialect's
// own stream decoder and folds the chunks into one completion. The relay writes straight to the
// response, so the tap wraps that one response's `write`.
import type { ServerResponse } from 'node:http';
import type { ChatCompletion, Usage } from '../core/canonical.ts';
import type { DialectName } from '../dialects/types.ts';
import { AnthropicStreamDecoder } from '../providers/anthropic/stream.ts';
import { OpenAIStreamDecoder } from '../providers/openai/stream.ts';
import type { StreamDecoder, Target } from '../providers/types.ts';
import { CompletionAssembler } from './replay.ts';

const TAP_TARGET: Target = { endpoint: { name: 'response-cache', type: 'anthropic', origin: '', basePath: '', headers: {} }, model: '' };
const encoder = new TextEncoder();

export class StreamTap {
  private readonly decoder: StreamDecoder;
  private readonly assembler = new CompletionAssembler();
  private failed = false;

  constructor(res: ServerResponse, dialect: DialectName) {
    this.decoder = dialect === 'anthropic' ? new AnthropicStreamDecoder(TAP_TARGET) : new OpenAIStreamDecoder(TAP_TARGET.endpoint.name);
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      this.feed(chunk);
      return write(chunk, ...rest);
    }) as ServerResponse['write'];
  }

  /** The streamed completion, with the usage the gateway accounted when the stream itself carried none. */
  finish(usage: Usage | undefined): ChatCompletion | undefined {
    if (this.failed) return undefined;
    try {
      for (const chunk of this.decoder.end()) this.assembler.add(chunk);
    } catch {
      return undefined;
    }
    return this.assembler.completion(usage);
  }

  private feed(chunk: unknown): void {
    if (this.failed) return;
    const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk instanceof Uint8Array ? chunk : undefined;
    if (!bytes || bytes.length === 0) return;
    try {
      for (const c of this.decoder.push(bytes)) this.assembler.add(c);
    } catch {
      // An error event in the stream: this answer is not one to keep.
      this.failed = true;
    }
  }
}
