// Amazon Bedrock Runtime simulator: Converse, ConverseStream (binary event stream) and InvokeModel for
// Titan text embeddings, with Bedrock's error shape (`x-amzn-ErrorType` header, `{ "message" }` body).
//
// Authentication: requests must carry `Authorization: AWS4-HMAC-SHA256 …` or `Bearer …`. When the apiKey
// knob is set, a Bearer token must equal it, and a SigV4 signature must verify with it as the secret
// access key (the harness passes the server's knobs; `createBedrockSimServer` additionally pins the
// access key id).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EVENT_STREAM_CONTENT_TYPE } from '../../providers/bedrock/eventstream.ts';
import type { TitanEmbeddingResponse } from '../../providers/bedrock/wire.ts';
import type { ChatRequest } from '../../core/canonical.ts';
import { planCompletion, simEmbedding, simPromptTokens, simTextTokens, type SimCompletion, type SimPlanOptions } from '../engine.ts';
import { SimServer, sendJson, writeFrames, type SimContext, type SimErrorBody, type SimFormat, type SimKnobs, type SimRoute } from '../server.ts';
import { isSigV4, payloadMatches, verifySigV4 } from './auth.ts';
import { renderConverse, renderStreamFrames } from './render.ts';
import { parseConverse } from './request.ts';

const ROUTE = /\/model\/([^/]+)\/(converse|converse-stream|invoke)$/;

const ERROR_TYPE: Record<number, string> = {
  400: 'ValidationException',
  401: 'InvalidSignatureException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

const BAD_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';

const TITAN_V2_DIMENSIONS = new Set([256, 512, 1024]);

export interface BedrockSimOptions {
  /** The secret SigV4 signatures are verified with; usually the server's apiKey knob. */
  secretAccessKey?: () => string | undefined;
  /** When set, SigV4 requests must be signed by this access key id. */
  accessKeyId?: string;
}

function errorType(status: number): string {
  return ERROR_TYPE[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
}

function renderError(status: number, message: string): SimErrorBody {
  return {
    contentType: 'application/json',
    headers: { 'x-amzn-errortype': errorType(status), 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify({ message: status === 401 ? BAD_SIGNATURE : message }),
  };
}

function sendError(ctx: SimContext, status: number, type: string, message: string): void {
  ctx.res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() });
  ctx.res.end(JSON.stringify({ message }));
}

function latencyMs(ctx: SimContext, plan: SimCompletion): number {
  const choice = plan.choices[0];
  return Math.round(ctx.knobs.ttftMs + ctx.tokenDelayMs * (choice.pieces.length + choice.reasoning.length + choice.toolCalls.length));
}

type Handler = (ctx: SimContext, model: string) => Promise<void>;

/** Prompt caching at `cachePoint` blocks, as Anthropic models on Bedrock do (1,024-token minimum). */
function cachePlan(ctx: SimContext, request: ChatRequest): SimPlanOptions {
  const cache = ctx.promptCache.breakpoints(request, simPromptTokens(request), 1024);
  return { outputTokens: ctx.knobs.outputTokens, cachedTokens: Math.max(ctx.knobs.cachedTokens, cache.read), cacheWriteTokens: cache.written };
}

async function converse(ctx: SimContext, model: string): Promise<void> {
  const parsed = parseConverse(model, ctx.json, false);
  if (!parsed.ok) return sendError(ctx, 400, 'ValidationException', parsed.message);
  const plan = planCompletion(parsed.request, cachePlan(ctx, parsed.request));
  await sendJson(ctx, 200, renderConverse(plan, latencyMs(ctx, plan)), { 'x-amzn-requestid': randomUUID() });
}

async function converseStream(ctx: SimContext, model: string): Promise<void> {
  const parsed = parseConverse(model, ctx.json, true);
  if (!parsed.ok) return sendError(ctx, 400, 'ValidationException', parsed.message);
  const plan = planCompletion(parsed.request, cachePlan(ctx, parsed.request));
  ctx.res.writeHead(200, { 'content-type': EVENT_STREAM_CONTENT_TYPE, 'x-amzn-requestid': randomUUID() });
  await writeFrames(ctx, renderStreamFrames(plan, latencyMs(ctx, plan)));
}

/** InvokeModel, implemented for Amazon Titan text embeddings (v1: 1536 fixed; v2: 256/512/1024). */
async function invoke(ctx: SimContext, model: string): Promise<void> {
  if (!model.includes('titan-embed-text')) {
    return sendError(ctx, 400, 'ValidationException', 'The simulator implements InvokeModel for Amazon Titan text embedding models only.');
  }
  const body = ctx.json as { inputText?: unknown; dimensions?: unknown } | undefined;
  if (typeof body?.inputText !== 'string' || body.inputText.length === 0) {
    return sendError(ctx, 400, 'ValidationException', 'Malformed input request: #: required key [inputText] not found, please reformat your input and try again.');
  }
  const v1 = model.includes('titan-embed-text-v1');
  let dimensions = v1 ? 1536 : 1024;
  if (body.dimensions !== undefined) {
    if (v1 || typeof body.dimensions !== 'number' || !TITAN_V2_DIMENSIONS.has(body.dimensions)) {
      return sendError(ctx, 400, 'ValidationException', 'Malformed input request: #/dimensions: is not a valid enum value, please reformat your input and try again.');
    }
    dimensions = body.dimensions;
  }
  const embedding = simEmbedding(body.inputText, dimensions);
  const response: TitanEmbeddingResponse = { embedding, inputTextTokenCount: simTextTokens(body.inputText) };
  if (!v1) response.embeddingsByType = { float: embedding };
  await sendJson(ctx, 200, response, { 'x-amzn-requestid': randomUUID() });
}

/** Checks that apply to every operation once the harness has let the request through. */
async function guarded(ctx: SimContext, model: string, handler: Handler): Promise<void> {
  const auth = ctx.req.headers.authorization;
  if (!auth) return sendError(ctx, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (ctx.knobs.apiKey !== undefined && isSigV4(ctx.req) && !payloadMatches(ctx.req, ctx.raw)) {
    return sendError(ctx, 403, 'InvalidSignatureException', BAD_SIGNATURE);
  }
  await handler(ctx, model);
}

function routeFor(pathname: string): SimRoute | undefined {
  const match = ROUTE.exec(pathname);
  if (!match) return undefined;
  let model: string;
  try {
    model = decodeURIComponent(match[1]);
  } catch {
    return (ctx) => sendError(ctx, 400, 'ValidationException', 'The provided model identifier is invalid.');
  }
  const handler = match[2] === 'converse' ? converse : match[2] === 'converse-stream' ? converseStream : invoke;
  return (ctx) => guarded(ctx, model, handler);
}

export function createBedrockSimFormat(options: BedrockSimOptions = {}): SimFormat {
  return {
    name: 'bedrock',
    route(method: string, pathname: string): SimRoute | undefined {
      return method === 'POST' ? routeFor(pathname) : undefined;
    },
    errorBody: renderError,
    presentedKey(req: IncomingMessage, _url: URL, knobs: SimKnobs): string | undefined {
      const auth = req.headers.authorization;
      if (auth?.startsWith('Bearer ')) return auth.slice(7);
      const secret = options.secretAccessKey?.() ?? knobs.apiKey;
      return secret !== undefined && verifySigV4(req, secret, options.accessKeyId) ? secret : undefined;
    },
  };
}

/** The shared format: SigV4 signatures are verified against the server's apiKey knob. */
export const bedrockSimFormat: SimFormat = createBedrockSimFormat();

/** A Bedrock simulator whose SigV4 verification uses its own apiKey knob as the secret access key. */
export function createBedrockSimServer(knobs: Partial<SimKnobs> = {}, options: { accessKeyId?: string } = {}): SimServer {
  const holder: { server?: SimServer } = {};
  const format = createBedrockSimFormat({ accessKeyId: options.accessKeyId, secretAccessKey: () => holder.server?.knobs.apiKey });
  holder.server = new SimServer(format, knobs);
  return holder.server;
}
