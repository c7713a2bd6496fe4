// The Responses API as an ingress dialect. Unlike the stateless dialects it is built per request: the
// body is parsed (and the previous turn loaded) before routing, the response id is fixed up front, and
// the finished Response is handed to `onComplete` (the store) before the client sees its end.
import type { ChatCompletion, ChatRequest } from '../../core/canonical.ts';
import type { GatewayError } from '../../core/errors.ts';
import type { IngressDialect, StreamEncoder } from '../types.ts';
import type { ResponsesRequest } from './request.ts';
import { renderResponse, type ResponseIdentity } from './response.ts';
import { ResponsesStreamEncoder } from './stream.ts';
import type { ResponseObject } from './types.ts';

export interface ResponsesTurn {
  identity: ResponseIdentity;
  req: ResponsesRequest;
  /** The canonical request, conversation history included. */
  chat: ChatRequest;
  /** Receives the finished (completed or incomplete) Response; must not throw. */
  onComplete(response: ResponseObject): Promise<void>;
}

export class ResponsesDialect implements IngressDialect {
  readonly name = 'responses' as const;
  private rendered: ResponseObject | undefined;
  private readonly encoders: ResponsesStreamEncoder[] = [];

  constructor(private readonly turn: ResponsesTurn) {}

  parseChat(): ChatRequest {
    return this.turn.chat;
  }

  renderChat(completion: ChatCompletion): ResponseObject {
    this.rendered = renderResponse(this.turn.identity, this.turn.req, completion);
    return this.rendered;
  }

  /**
   * One encoder per attempt. The gateway asks again for an encoder to render a mid-stream error; by
   * then an attempt has streamed content (it is the committed one), so that encoder is returned and
   * the error event continues its sequence numbers and output.
   */
  createStreamEncoder(): StreamEncoder {
    const committed = this.encoders.find((e) => e.sawContent);
    if (committed) return committed;
    const encoder = new ResponsesStreamEncoder(this.turn.identity, this.turn.req, { holdTerminal: true });
    this.encoders.push(encoder);
    return encoder;
  }

  renderError(err: GatewayError): unknown {
    return err.toOpenAI();
  }

  /**
   * Stores the finished response, then returns the stream's held-back terminal event (empty for a
   * unary response, a failed stream or a client that left).
   */
  async finalize(): Promise<string> {
    if (this.rendered) {
      await this.turn.onComplete(this.rendered);
      return '';
    }
    // A stream with no content at all ended while priming: the committed attempt is the one that ended.
    const encoder = this.encoders.find((e) => e.sawContent) ?? this.encoders.find((e) => e.ended);
    if (!encoder?.ended) return '';
    await this.turn.onComplete(encoder.snapshot());
    return encoder.terminal();
  }
}
