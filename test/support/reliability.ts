// Helpers for the reliability suites (fuzz, faults, clients, isolation, secrets): a seed that is printed
// and can be replayed, a forced GC for memory baselines, and a low-level HTTP call that never throws.
import { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'undici';

/** The fuzz seed: `FUZZ_SEED` replays a run; the default keeps CI reproducible. */
export function fuzzSeed(fallback: number): number {
  const fromEnv = Number(process.env.FUZZ_SEED);
  return Number.isInteger(fromEnv) && process.env.FUZZ_SEED !== '' ? fromEnv : fallback;
}

let collect: (() => void) | undefined;

/** Heap and RSS after a full garbage collection (the flag is switched on at run time). */
export function settledMemory(): { heapUsed: number; rss: number } {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 3; i++) collect();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** POST through undici with hard timeouts, so a hung gateway fails the test instead of stalling it. */
export async function post(url: string, body: string | Uint8Array, headers: Record<string, string>, timeoutMs = 10_000): Promise<RawResponse> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** Writes raw bytes on a fresh TCP connection and collects whatever comes back until it closes or `ms` passes. */
export function rawExchange(port: number, bytes: Uint8Array | string, ms = 2000): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let response = '';
    let closed = false;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, closed });
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      done();
    });
    socket.connect(port, '127.0.0.1', () => socket.write(bytes));
  });
}

/** True for OpenAI's `{"error":{"message","type","param","code"}}`. */
export function isOpenAIError(body: unknown): boolean {
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof error.message === 'string' &&
    error.message.length > 0 &&
    typeof error.type === 'string' &&
    'param' in error &&
    'code' in error
  );
}

/** True for Anthropic's `{"type":"error","error":{"type","message"}}`. */
export function isAnthropicError(body: unknown): boolean {
  const b = body as { type?: unknown; error?: Record<string, unknown> } | null;
  return b?.type === 'error' && typeof b.error?.type === 'string' && typeof b.error.message === 'string' && b.error.message.length > 0;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
