import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderEndpoint } from '../types.ts';
import { authorizedHeaders, sha256Hex } from './signing.ts';

const PATH = '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse';
const BODY = '{"messages":[{"role":"user","content":[{"text":"hi"}]}]}';

function endpoint(extra: Partial<ProviderEndpoint> = {}): ProviderEndpoint {
  return {
    name: 'bedrock-test',
    type: 'bedrock',
    origin: 'http://127.0.0.1:4566',
    basePath: '',
    headers: {},
    region: 'eu-west-1',
    awsAccessKeyId: 'AKIDEXAMPLE',
    awsSecretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    ...extra,
  };
}

/** node:crypto behind the hash interface the AWS SDK signer expects. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

function amzDate(value: string): Date {
  return new Date(`${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`);
}

describe('authorizedHeaders', () => {
  it('signs with SigV4 exactly as the AWS SDK signer does', async () => {
    const headers = authorizedHeaders(endpoint({ awsSessionToken: 'SESSIONTOKEN', headers: { 'x-team': 'ml' } }), PATH, BODY, 'application/json');
    expect(headers.host).toBe('127.0.0.1:4566');
    expect(headers['x-amz-content-sha256']).toBe(sha256Hex(BODY));
    expect(headers['x-amz-security-token']).toBe('SESSIONTOKEN');
    expect(headers['x-team']).toBe('ml');
    expect(headers['content-length']).toBe(String(Buffer.byteLength(BODY)));
    const auth = headers.authorization;
    expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=([a-z0-9-]+;)+[a-z0-9-]+, Signature=[0-9a-f]{64}$/);
    expect(auth).toContain('host;');

    const { authorization, ...unsigned } = headers;
    const reference = new SignatureV4({
      service: 'bedrock',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'SESSIONTOKEN' },
      sha256: NodeSha256,
    });
    const signed = await reference.sign(
      { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 4566, path: PATH, headers: unsigned, body: BODY, query: {} },
      { signingDate: amzDate(headers['x-amz-date']) },
    );
    expect(signed.headers.authorization).toBe(authorization);
  });

  it('derives the region from a Bedrock host when the endpoint names none', () => {
    const headers = authorizedHeaders(endpoint({ region: undefined, origin: 'https://bedrock-runtime.ap-south-1.amazonaws.com' }), PATH, BODY, 'application/json');
    expect(headers.authorization).toContain('/ap-south-1/bedrock/aws4_request');
    expect(headers.host).toBe('bedrock-runtime.ap-south-1.amazonaws.com');
  });

  it('uses a Bedrock API key as a Bearer token when no AWS credentials are set', () => {
    const headers = authorizedHeaders(endpoint({ awsAccessKeyId: undefined, awsSecretAccessKey: undefined, apiKey: 'bedrock-api-key-abc' }), PATH, BODY, 'application/json');
    expect(headers.authorization).toBe('Bearer bedrock-api-key-abc');
    expect(headers['x-amz-date']).toBeUndefined();
  });

  it('prefers SigV4 when both are configured and fails clearly with neither', () => {
    expect(authorizedHeaders(endpoint({ apiKey: 'k' }), PATH, BODY, 'application/json').authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    let failure: unknown;
    try {
      authorizedHeaders(endpoint({ awsAccessKeyId: undefined, awsSecretAccessKey: undefined }), PATH, BODY, 'application/json');
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(GatewayError);
    expect((failure as GatewayError).errorClass).toBe('auth');
  });
});
