// The admin API client: the key from this tab's sessionStorage as a Bearer token, JSON in and out,
// OpenAI-shaped errors turned into ApiError.
import { clearKey, getKey } from './session.js';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {string | null} code
   * @param {string | null} param
   */
  constructor(status, message, code, param) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

/** @typedef {Record<string, string | number | boolean | null | undefined>} Query */

/**
 * @param {string} path
 * @param {Query} [query]
 */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * @template T
 * @param {string} method
 * @param {string} path absolute, e.g. /admin/v1/keys
 * @param {{ query?: Query, body?: unknown, headers?: Record<string, string>, key?: string }} [options]
 * @returns {Promise<T>}
 */
export async function request(method, path, options = {}) {
  const key = options.key ?? getKey();
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...options.headers };
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(withQuery(path, options.query), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await res.text();
  /** @type {any} */
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = json?.error;
    const apiError = new ApiError(res.status, err?.message ?? `${method} ${path} failed with HTTP ${res.status}`, err?.code ?? null, err?.param ?? null);
    // A key revoked or expired mid-session: back to the login screen.
    if (res.status === 401 && options.key === undefined) {
      clearKey();
      window.dispatchEvent(new CustomEvent('switchyard:signed-out', { detail: apiError.message }));
    }
    throw apiError;
  }
  return /** @type {T} */ (json);
}

/**
 * @template T
 * @param {string} path
 * @param {Query} [query]
 * @returns {Promise<T>}
 */
export const get = (path, query) => request('GET', path, { query });

/**
 * True when the route does not exist or is switched off on this gateway (e.g. no usage analytics).
 * @param {unknown} error
 */
export function isMissingRoute(error) {
  return error instanceof ApiError && error.status === 404 && ['unknown_route', 'admin_disabled', 'analytics_disabled'].includes(error.code ?? '');
}
