// The null proxy: the practical floor for a Node HTTP gateway. Same stack as Switchyard (node:http
// server, one undici Pool upstream) and nothing else: the request body is forwarded as received and
// the response bytes (a JSON body or an SSE stream) are relayed as they come.
// Usage: node bin/run-ts.js bench/null-proxy.ts <port> <upstream origin>
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [port, origin] = process.argv.slice(2);
const pool = new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    pool.request({
      method: 'POST',
      path: req.url ?? '/',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
      body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
    }).then(
      (upstream) => {
        res.writeHead(upstream.statusCode, { 'content-type': String(upstream.headers['content-type'] ?? 'application/json') });
        upstream.body.on('data', (chunk: Buffer) => res.write(chunk));
        upstream.body.on('end', () => res.end());
        upstream.body.on('error', () => res.destroy());
      },
      () => {
        res.writeHead(502).end();
      },
    );
  });
});

server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`null proxy listening on ${port}\n`));
process.on('SIGTERM', () => {
  server.close();
  void pool.close().then(() => process.exit(0));
});
