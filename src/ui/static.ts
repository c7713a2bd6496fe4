// Serves the dashboard under /ui: the files of `web/` and the uPlot build from node_modules, with
// content types, revalidation headers and a strict Content-Security-Policy. Only regular files below
// the allowed roots with a known extension are served; everything else is a 404.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayError } from '../core/errors.ts';

export const UI_PREFIX = '/ui';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/**
 * Scripts and styles from this origin only (no inline code, no eval), API calls to this origin only,
 * never framed. uPlot sets element styles through the CSSOM, which `style-src 'self'` allows.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Size and mtime when read, to notice an edited file without re-reading unchanged ones. */
  stamp: string;
}

/** Files outside `web/` that the dashboard imports, by their URL below /ui/. */
function vendorFiles(): Map<string, string> {
  let uplotDist: string;
  try {
    uplotDist = resolve(createRequire(import.meta.url).resolve('uplot/package.json'), '..', 'dist');
  } catch {
    // Without uPlot installed the dashboard draws no charts, but the gateway must still start.
    return new Map();
  }
  return new Map([
    ['vendor/uplot.esm.js', resolve(uplotDist, 'uPlot.esm.js')],
    ['vendor/uplot.css', resolve(uplotDist, 'uPlot.min.css')],
  ]);
}

export interface UiAssetsOptions {
  /** Directory of the dashboard's own files; default `web/` at the repository root. */
  root?: string;
}

export class UiAssets {
  readonly root: string;
  private readonly vendor = vendorFiles();
  private readonly cache = new Map<string, Asset>();

  constructor(options: UiAssetsOptions = {}) {
    this.root = resolve(options.root ?? fileURLToPath(new URL('../../web/', import.meta.url)));
  }

  /** Serves GET/HEAD for a path equal to /ui or below /ui/. */
  async serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      throw new GatewayError('bad_request', `method ${method} is not allowed here; use GET`, { status: 405, code: 'method_not_allowed' });
    }
    if (path === UI_PREFIX) {
      res.writeHead(308, { location: `${UI_PREFIX}/`, ...SECURITY_HEADERS, 'content-length': 0 });
      res.end();
      return;
    }
    const relative = path.slice(UI_PREFIX.length + 1);
    const file = this.locate(relative === '' ? 'index.html' : relative);
    const asset = file && (await this.load(file));
    if (!asset) throw new GatewayError('not_found', `no dashboard file ${path}`, { code: 'not_found' });

    const headers: Record<string, string | number> = {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      etag: asset.etag,
      // Revalidate every time (a 304 is cheap): a new version of the gateway must not run old UI code.
      'cache-control': 'no-cache',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['content-length'] = asset.body.length;
    res.writeHead(200, headers);
    res.end(method === 'HEAD' ? undefined : asset.body);
  }

  /** The file for a URL path below /ui/, or undefined when it is not one the dashboard may serve. */
  locate(relative: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(relative);
    } catch {
      return undefined;
    }
    const vendored = this.vendor.get(decoded);
    if (vendored) return vendored;
    if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
    const segments = decoded.split('/');
    // No dot-files or dot-directories (which also rules out `.` and `..`), no empty segments.
    if (segments.some((s) => s === '' || s.startsWith('.'))) return undefined;
    if (!Object.hasOwn(CONTENT_TYPES, extname(decoded))) return undefined;
    const file = resolve(this.root, ...segments);
    return file.startsWith(this.root + sep) ? file : undefined;
  }

  private async load(file: string): Promise<Asset | undefined> {
    let info;
    try {
      info = await stat(file);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const stamp = `${info.size}:${info.mtimeMs}`;
    const cached = this.cache.get(file);
    if (cached?.stamp === stamp) return cached;
    const body = await readFile(file);
    const asset: Asset = {
      body,
      type: CONTENT_TYPES[extname(file)],
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      stamp,
    };
    this.cache.set(file, asset);
    return asset;
  }
}
