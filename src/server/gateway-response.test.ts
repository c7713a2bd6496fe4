import { createServer, request, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayResponse, REQUEST_ID_HEADER } from './gateway-response.ts';
import { sendJson } from './http.ts';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** One response written by `write` on a server using GatewayResponse; the raw head and the headers. */
async function respond(write: (res: ServerResponse) => void): Promise<{ raw: string[]; headers: IncomingHttpHeaders; body: string }> {
  server = createServer({ ServerResponse: GatewayResponse }, (_req, res) => {
    (res as GatewayResponse).requestId = 'req_123';
    write(res);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    request({ port, host: '127.0.0.1', path: '/' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ raw: res.rawHeaders, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

const idCount = (raw: string[]): number => raw.filter((v, i) => i % 2 === 0 && v.toLowerCase() === REQUEST_ID_HEADER).length;

describe('GatewayResponse', () => {
  it('sendJson writes the request id once, in the same head as the caller headers', async () => {
    const { raw, headers, body } = await respond((res) => sendJson(res, 201, { ok: true }, { 'x-switchyard-provider': 'sim' }));
    expect(headers[REQUEST_ID_HEADER]).toBe('req_123');
    expect(idCount(raw)).toBe(1);
    expect(headers['x-switchyard-provider']).toBe('sim');
    expect(headers['content-type']).toBe('application/json');
    expect(headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(JSON.parse(body)).toEqual({ ok: true });
  });

  it('adds the id to a head written any other way', async () => {
    const writers: Array<(res: ServerResponse) => void> = [
      (res) => res.end('implicit head'),
      (res) => res.writeHead(202).end(),
      (res) => res.writeHead(202, 'Accepted', { 'x-a': '1' }).end(),
      (res) => res.writeHead(202, ['x-a', '1']).end(),
      (res) => {
        res.setHeader('x-early', 'yes');
        sendJson(res, 200, 'null', { 'x-a': '1' });
      },
      (res) => {
        res.statusCode = 204;
        res.flushHeaders();
        res.end();
      },
    ];
    for (const write of writers) {
      const { raw, headers } = await respond(write);
      expect(headers[REQUEST_ID_HEADER]).toBe('req_123');
      expect(idCount(raw)).toBe(1);
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    }
  });

  it('leaves a plain ServerResponse alone', async () => {
    server = createServer((_req, res) => sendJson(res, 200, { ok: true }));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.headers.get(REQUEST_ID_HEADER)).toBeNull();
    expect(await res.json()).toEqual({ ok: true });
  });
});
