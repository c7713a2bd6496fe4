// The contract every provider adapter implements. An adapter owns one wire format: it translates the
// canonical request into that format, and the format's responses, streams and errors back.
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  Usage,
} from '../core/canonical.ts';
import type { GatewayError } from '../core/errors.ts';

export type WireFormat = 'openai' | 'anthropic' | 'gemini' | 'bedrock';

/** Provider types accepted in config; the OpenAI-compatible family shares the `openai` wire format. */
export type ProviderType =
  | 'openai'
  | 'azure'
  | 'deepseek'
  | 'groq'
  | 'mistral'
  | 'together'
  | 'fireworks'
  | 'xai'
  | 'perplexity'
  | 'openrouter'
  | 'vllm'
  | 'ollama'
  | 'lmstudio'
  | 'openai-compatible'
  | 'anthropic'
  | 'gemini'
  | 'vertex'
  | 'bedrock';

/** A configured provider instance, resolved at config load (immutable afterwards). */
export interface ProviderEndpoint {
  /** Config name, e.g. `openai-main`. */
  name: string;
  type: ProviderType;
  /** Origin only, e.g. `http://127.0.0.1:9001`; upstream pools are keyed on it. */
  origin: string;
  /** Path prefix from base_url without trailing slash, e.g. `/v1` (may be empty). */
  basePath: string;
  apiKey?: string;
  /** Extra static headers from config. */
  headers: Record<string, string>;
  /** Azure `api-version`, Vertex project/location, Bedrock region and credentials. */
  apiVersion?: string;
  region?: string;
  project?: string;
  location?: string;
  awsAccessKeyId?: string;
  awsSecretAccessKey?: string;
  awsSessionToken?: string;
}

/** Where one attempt goes: a provider endpoint and the model id to send it. */
export interface Target {
  endpoint: ProviderEndpoint;
  /** The provider's model id (Azure: the deployment name). */
  model: string;
  /** Output cap from the catalog or config, for formats that require max_tokens (Anthropic). */
  maxOutputTokens?: number;
}

export interface UpstreamRequest {
  method: 'POST' | 'GET';
  /** Path and query, appended to the endpoint's origin. */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/**
 * Incremental decoder of one upstream stream into canonical chunks. `push` may be called with any
 * byte boundaries. Errors signalled in the stream throw a classified GatewayError; `end` throws
 * `stream_cut` when the stream stopped before its terminal event. Usage arrives as a final chunk with
 * `choices: []` and `usage` set.
 */
export interface StreamDecoder {
  push(bytes: Uint8Array): ChatCompletionChunk[];
  end(): ChatCompletionChunk[];
}

export type Headers = Record<string, string | string[] | undefined>;

/**
 * Watches the bytes of a same-dialect stream relayed to the client untouched (or nearly), reading
 * only what accounting needs. `push` returns what to forward (usually the same bytes; OpenAI strips
 * the usage chunk the gateway forced on when the client did not ask for it). Throws a classified
 * GatewayError when the stream carries an error event; `end` throws `stream_cut` when the terminal
 * event never came.
 */
export interface PassthroughStreamObserver {
  push(bytes: Uint8Array): Uint8Array | string;
  end(): void;
  readonly usage: Usage | undefined;
  /** True once any content or tool-call delta has been seen. */
  readonly started: boolean;
  /** Content-bearing events seen (about one token each): the usage estimate when a stream is cut. */
  readonly contentEvents: number;
}

/** Same-dialect fast path: forward the client's own body and relay the provider's bytes. */
export interface PassthroughSupport {
  /**
   * The client's parsed body, rewritten for this target (model replaced, usage reporting on). With
   * `clientBytes` (the client's own bytes, vetted by the server), those bytes are sent when the
   * rewrite changed nothing.
   */
  chatRequest(body: Record<string, unknown>, target: Target, stream: boolean, clientBytes?: Uint8Array): UpstreamRequest;
  responseUsage(body: unknown): Usage | undefined;
  /** `clientWantsUsage`: the client asked for usage in the stream (OpenAI include_usage). */
  streamObserver(target: Target, clientWantsUsage: boolean): PassthroughStreamObserver;
}

export interface ProviderAdapter {
  readonly wireFormat: WireFormat;
  /** Throws a `bad_request` GatewayError for parameters this provider cannot honour. */
  chatRequest(req: ChatRequest, target: Target): UpstreamRequest;
  chatResponse(body: unknown, target: Target): ChatCompletion;
  chatStream(target: Target, req: ChatRequest): StreamDecoder;
  embeddingsRequest?(req: EmbeddingsRequest, target: Target): UpstreamRequest;
  embeddingsResponse?(body: unknown, target: Target, req: EmbeddingsRequest): EmbeddingsResponse;
  passthrough?: PassthroughSupport;
  /** Translates and classifies a non-2xx upstream answer. */
  error(status: number, headers: Headers, body: string, target: Target): GatewayError;
}
