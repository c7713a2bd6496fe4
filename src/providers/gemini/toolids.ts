// Gemini function calls carry no id, so the gateway makes `call_…` ids. When Gemini attaches a thought
// signature to a call, the signature rides inside the id (base64url, so the id stays within
// `[A-Za-z0-9_-]`, which Anthropic clients require) and comes back with the client's next request:
// the canonical format has nowhere else to keep it, and Gemini 3 rejects a replayed call without it.
import { randomBytes } from 'node:crypto';

const SIGNATURE_MARK = '_gts_';
// Random per process, so ids stay unique across replicas without a random draw per call.
const PREFIX = `call_${randomBytes(6).toString('hex')}`;
let counter = 0;

export function newToolCallId(signature?: string): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  const id = `${PREFIX}${counter.toString(36)}`;
  return signature ? `${id}${SIGNATURE_MARK}${Buffer.from(signature, 'base64').toString('base64url')}` : id;
}

export function signatureFromToolCallId(id: string): string | undefined {
  const at = id.indexOf(SIGNATURE_MARK);
  if (at === -1) return undefined;
  return Buffer.from(id.slice(at + SIGNATURE_MARK.length), 'base64url').toString('base64');
}

let responseCounter = 0;
const RESPONSE_PREFIX = `gemini-${randomBytes(6).toString('hex')}`;

/** Completion id when Gemini sends no `responseId`. */
export function newResponseId(): string {
  responseCounter = (responseCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${RESPONSE_PREFIX}${responseCounter.toString(36)}`;
}
