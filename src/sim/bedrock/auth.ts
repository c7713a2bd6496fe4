// SigV4 verification for the Bedrock simulator: the signature is recomputed with aws4 from the request
// as received and the expected secret, which proves the client signed what it sent.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import aws4 from 'aws4';

const SCHEME = 'AWS4-HMAC-SHA256 ';
/** AWS rejects signatures more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** Headers whose values the verification relies on, so they must be covered by the signature. */
const REQUIRED_SIGNED = ['host', 'x-amz-date', 'x-amz-content-sha256'];

export interface SigV4Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export function isSigV4(req: IncomingMessage): boolean {
  return req.headers.authorization?.startsWith(SCHEME) === true;
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=a;b, Signature=hex`. */
export function parseSigV4(header: string | undefined): SigV4Authorization | undefined {
  if (!header?.startsWith(SCHEME)) return undefined;
  const fields: Record<string, string> = {};
  for (const item of header.slice(SCHEME.length).split(',')) {
    const eq = item.indexOf('=');
    if (eq !== -1) fields[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  const scope = fields.Credential?.split('/');
  if (!scope || scope.length !== 5 || scope[4] !== 'aws4_request' || !fields.SignedHeaders || !fields.Signature) return undefined;
  return {
    accessKeyId: scope[0],
    date: scope[1],
    region: scope[2],
    service: scope[3],
    signedHeaders: fields.SignedHeaders.split(';'),
    signature: fields.Signature,
  };
}

/** `20240102T030405Z` → epoch ms. */
function amzDateMs(value: string): number {
  if (value.length !== 16) return Number.NaN;
  const iso = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`;
  return Date.parse(iso);
}

/**
 * Verifies the request's SigV4 signature against `secretAccessKey` (and `accessKeyId` when given). The
 * harness asks before the body is handed to the route, so the payload is taken from the signed
 * `x-amz-content-sha256` header (which aws4 callers and the AWS SDK send); `payloadMatches` then checks
 * that header against the body received.
 */
export function verifySigV4(req: IncomingMessage, secretAccessKey: string, accessKeyId?: string, now = Date.now()): boolean {
  const auth = parseSigV4(req.headers.authorization);
  if (!auth || (accessKeyId !== undefined && auth.accessKeyId !== accessKeyId)) return false;
  const amzDate = req.headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !amzDate.startsWith(auth.date)) return false;
  if (Math.abs(now - amzDateMs(amzDate)) > MAX_SKEW_MS) return false;
  for (const required of REQUIRED_SIGNED) if (!auth.signedHeaders.includes(required)) return false;

  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return false;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const signer = new aws4.RequestSigner(
    { method: req.method, path: req.url, service: auth.service, region: auth.region, headers, doNotModifyHeaders: true },
    { accessKeyId: auth.accessKeyId, secretAccessKey },
  );
  signer.datetime = amzDate;
  const expected = Buffer.from(signer.signature(), 'utf8');
  const given = Buffer.from(auth.signature, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Whether the body received is the one whose hash was signed. */
export function payloadMatches(req: IncomingMessage, raw: Buffer): boolean {
  return createHash('sha256').update(raw).digest('hex') === req.headers['x-amz-content-sha256'];
}
