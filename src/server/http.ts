// Small node:http helpers: bounded body reading and JSON responses.
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../core/errors.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../core/json-depth.ts';
import { takeRequestId } from './gateway-response.ts';

/** Reads the whole body, refusing more than `limit` bytes without buffering them. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', reject);
    req.on('aborted', () => reject(new GatewayError('bad_request', 'client aborted the request body', { code: 'client_aborted' })));
  });
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('payload_too_large', `request body exceeds the ${Math.round(limit / 1048576)} MB limit`, { code: 'payload_too_large' });
}

export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new GatewayError('bad_request', 'request body is empty; expected a JSON object', { code: 'invalid_json' });
  // Silently replacing bad bytes with U+FFFD would send the provider something the client never wrote.
  if (!isUtf8(body)) throw new GatewayError('bad_request', 'request body is not valid UTF-8', { code: 'invalid_encoding' });
  // Validators, translators and serialisers all recurse: refuse absurd nesting before any of them runs.
  if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) {
    throw new GatewayError('bad_request', `request body nests deeper than ${MAX_JSON_DEPTH} levels`, { code: 'nesting_too_deep' });
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new GatewayError('bad_request', `request body is not valid JSON: ${(err as Error).message}`, { code: 'invalid_json' });
  }
}

/** `headers` is written with the head and may be extended in place: pass an object built for this response. */
export function sendJson(res: ServerResponse, status: number, body: unknown | string, headers?: Record<string, string | number>): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  // One headers object for the whole head: node:http's fast path, no `setHeader` per header.
  const head = headers ?? {};
  takeRequestId(res, head);
  head['content-type'] = 'application/json';
  head['content-length'] = Buffer.byteLength(text);
  res.writeHead(status, head);
  res.end(text);
}
