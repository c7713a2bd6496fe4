import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asGatewayError } from '../core/errors.ts';
import { UI_CSP, UiAssets } from './static.ts';

let server: Server;
let base: string;
let root: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-ui-'));
  root = join(dir, 'web');
  mkdirSync(join(root, 'js'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'js', 'main.js'), 'export {};');
  writeFileSync(join(root, 'js', 'notes.txt'), 'not served');
  writeFileSync(join(root, '.env'), 'SECRET=1');
  writeFileSync(join(dir, 'secret.js'), 'outside');
  const assets = new UiAssets({ root });
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    assets.serve(req, res, path).catch((err: unknown) => {
      const e = asGatewayError(err);
      res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify(e.toOpenAI()));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('UiAssets', () => {
  it('serves index.html at /ui/ with the CSP, no-cache and an ETag', async () => {
    const res = await fetch(`${base}/ui/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(UI_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('<title>t</title>');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await fetch(`${base}/ui/js/main.js`);
    const etag = first.headers.get('etag') as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${base}/ui/js/main.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('serves uPlot from node_modules with a JavaScript content type', async () => {
    const js = await fetch(`${base}/ui/vendor/uplot.esm.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain('export { uPlot as default }');
    expect((await fetch(`${base}/ui/vendor/uplot.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('redirects /ui to /ui/', async () => {
    const res = await fetch(`${base}/ui`, { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('/ui/');
  });

  it('HEAD has headers and no body; other methods are refused', async () => {
    const head = await fetch(`${base}/ui/js/main.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
    expect((await fetch(`${base}/ui/js/main.js`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it.each([
    '/ui/..%2fsecret.js',
    '/ui/%2e%2e/secret.js',
    '/ui/js/%2e%2e/%2e%2e/secret.js',
    '/ui/..%5csecret.js',
    '/ui/.env',
    '/ui/js/notes.txt',
    '/ui/js/',
    '/ui/js//main.js',
    '/ui/js/main.js%00.html',
    '/ui/%E0%A4%A.js',
    '/ui/missing.js',
    '/ui/vendor/uPlot.d.ts',
  ])('refuses %s with a 404', async (path) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'not_found_error' } });
  });

  it('locate() never resolves outside the root', () => {
    const assets = new UiAssets({ root });
    for (const p of ['../secret.js', 'js/../../secret.js', '/etc/passwd.js', 'js/./main.js']) expect(assets.locate(p), p).toBeUndefined();
    expect(assets.locate('js/main.js')).toBe(join(root, 'js', 'main.js'));
  });
});
