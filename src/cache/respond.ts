// A cache hit answered in the client's dialect: the stored completion rendered as a body, or replayed
// as a stream through the dialect's own encoder (so it is a valid stream for that dialect's SDKs).
import type { ServerResponse } from 'node:http';
import type { ChatRequest } from '../core/canonical.ts';
import type { IngressDialect } from '../dialects/types.ts';
import { sendJson } from '../server/http.ts';
import { completionChunks } from './replay.ts';
import type { CacheHit } from './service.ts';

export function hitHeaders(hit: CacheHit): Record<string, string> {
  const r = hit.response;
  const headers: Record<string, string> = {
    'x-switchyard-cache': 'hit',
    'x-switchyard-cache-age': String(hit.ageS),
    age: String(hit.ageS),
    'x-switchyard-cost-usd': '0',
    'x-switchyard-attempts': '0',
  };
  if (hit.similarity !== undefined) headers['x-switchyard-cache-similarity'] = hit.similarity.toFixed(4);
  if (r.provider) headers['x-switchyard-provider'] = r.provider;
  if (r.providerModel) headers['x-switchyard-model'] = r.providerModel;
  if (r.deployment) headers['x-switchyard-deployment'] = r.deployment;
  return headers;
}

export function sendCacheHit(res: ServerResponse, hit: CacheHit, dialect: IngressDialect, req: ChatRequest, extra?: Record<string, string>): void {
  const headers = { ...extra, ...hitHeaders(hit) };
  const completion = hit.response.completion;
  if (!req.stream) return sendJson(res, 200, JSON.stringify(dialect.renderChat(completion)), headers);
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...headers });
  const encoder = dialect.createStreamEncoder(req);
  let out = '';
  for (const chunk of completionChunks(completion, completion.id, completion.created)) out += encoder.chunk(chunk);
  out += encoder.end();
  res.end(out);
}
