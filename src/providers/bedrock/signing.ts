// Authentication of Bedrock Runtime requests: AWS Signature V4 (service `bedrock`) with the endpoint's AWS
// credentials, or a Bedrock API key sent as `Authorization: Bearer` when no AWS credentials are configured.
import { createHash } from 'node:crypto';
import aws4 from 'aws4';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderEndpoint } from '../types.ts';

export const SIGNING_SERVICE = 'bedrock';
const DEFAULT_REGION = 'us-east-1';
const RUNTIME_HOST_PREFIX = 'bedrock-runtime.';

interface SigningTarget {
  /** `host[:port]` of the origin; the signature covers it, so it must be the host the request reaches. */
  host: string;
  region: string;
}

// Endpoints are immutable after config load, so their parsed host and region are computed once.
const targets = new WeakMap<ProviderEndpoint, SigningTarget>();

function signingTarget(endpoint: ProviderEndpoint): SigningTarget {
  let target = targets.get(endpoint);
  if (target === undefined) {
    const host = new URL(endpoint.origin).host;
    target = { host, region: endpoint.region ?? regionFromHost(host) ?? DEFAULT_REGION };
    targets.set(endpoint, target);
  }
  return target;
}

/** `bedrock-runtime.eu-west-1.amazonaws.com` → `eu-west-1`. */
function regionFromHost(host: string): string | undefined {
  if (!host.startsWith(RUNTIME_HOST_PREFIX)) return undefined;
  const end = host.indexOf('.', RUNTIME_HOST_PREFIX.length);
  return end === -1 ? undefined : host.slice(RUNTIME_HOST_PREFIX.length, end);
}

export function sha256Hex(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Headers for one POST to `path` (already percent-encoded, as sent). With AWS credentials the request is
 * signed, and every returned header must be sent unchanged; the payload hash is sent as
 * `x-amz-content-sha256` so a verifier need not re-hash the body.
 */
export function authorizedHeaders(endpoint: ProviderEndpoint, path: string, body: string, accept: string): Record<string, string> {
  const { host, region } = signingTarget(endpoint);
  const headers: Record<string, string> = { ...endpoint.headers, host, 'content-type': 'application/json', accept };
  const { awsAccessKeyId, awsSecretAccessKey } = endpoint;
  if (awsAccessKeyId && awsSecretAccessKey) {
    headers['x-amz-content-sha256'] = sha256Hex(body);
    const signed = aws4.sign(
      { host, path, method: 'POST', service: SIGNING_SERVICE, region, headers, body },
      { accessKeyId: awsAccessKeyId, secretAccessKey: awsSecretAccessKey, sessionToken: endpoint.awsSessionToken },
    );
    const out: Record<string, string> = {};
    const signedHeaders = signed.headers ?? {};
    for (const name in signedHeaders) {
      const value = signedHeaders[name];
      if (value !== undefined) out[name.toLowerCase()] = String(value);
    }
    return out;
  }
  if (endpoint.apiKey) {
    headers.authorization = `Bearer ${endpoint.apiKey}`;
    return headers;
  }
  throw new GatewayError('auth', `${endpoint.name}: no AWS credentials (access key id and secret) or Bedrock API key configured`, {
    provider: endpoint.name,
    code: 'missing_credentials',
  });
}
