// An ingress dialect is the API shape a client speaks to the gateway (OpenAI or Anthropic). It parses
// the client's body into the canonical request and renders canonical results back in its own shape.
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from '../core/canonical.ts';
import type { GatewayError } from '../core/errors.ts';

export type DialectName = 'openai' | 'anthropic' | 'responses';

/** Turns canonical chunks into the dialect's stream bytes; stateful, one per response. */
export interface StreamEncoder {
  chunk(chunk: ChatCompletionChunk): string;
  /** Terminal events after a clean end (e.g. `data: [DONE]`, `message_stop`). */
  end(): string;
  /** An explicit error event; a stream cut upstream must never look like a clean end. */
  error(err: GatewayError): string;
}

export interface IngressDialect {
  readonly name: DialectName;
  /** Validates and converts; throws a `bad_request` GatewayError naming the bad field. */
  parseChat(body: unknown): ChatRequest;
  renderChat(completion: ChatCompletion): unknown;
  createStreamEncoder(req: ChatRequest): StreamEncoder;
  renderError(err: GatewayError): unknown;
  /**
   * Async work that must finish before the client sees the end of a successful response (the
   * Responses API stores it for `previous_response_id`); for a stream, returns terminal bytes held
   * back until then.
   */
  finalize?(): Promise<string>;
}
