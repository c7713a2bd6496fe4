import { describe, expect, it } from 'vitest';
import type { Target } from '../types.ts';
import { bedrockError, errorName } from './errors.ts';

const target: Target = {
  endpoint: {
    name: 'bedrock-test',
    type: 'bedrock',
    origin: 'https://bedrock-runtime.us-east-1.amazonaws.com',
    basePath: '',
    headers: {},
    awsAccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    awsSecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    awsSessionToken: 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN',
  },
  model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
};

function error(status: number, type: string | undefined, message: string, headers: Record<string, string> = {}) {
  return bedrockError(status, type ? { 'x-amzn-errortype': type, ...headers } : headers, JSON.stringify({ message }), target);
}

describe('bedrockError', () => {
  it('classifies by the x-amzn-errortype name', () => {
    const cases: Array<[number, string, string, string, number]> = [
      [429, 'ThrottlingException', 'Too many requests', 'rate_limit', 429],
      [503, 'ServiceUnavailableException', 'Service unavailable', 'overloaded', 503],
      [429, 'ModelNotReadyException', 'Model is not ready', 'overloaded', 503],
      [400, 'ValidationException', 'Malformed input request', 'bad_request', 400],
      [400, 'ValidationException', 'Input is too long for requested model.', 'context_length', 400],
      [403, 'AccessDeniedException', "You don't have access to the model", 'permission', 403],
      [403, 'UnrecognizedClientException', 'The security token included in the request is invalid.', 'auth', 401],
      [403, 'ExpiredTokenException', 'The security token included in the request is expired', 'auth', 401],
      [404, 'ResourceNotFoundException', 'Could not resolve the foundation model', 'not_found', 404],
      [408, 'ModelTimeoutException', 'Model timed out', 'timeout', 504],
      [424, 'ModelErrorException', 'The model failed', 'upstream', 502],
      [500, 'InternalServerException', 'Internal error', 'upstream', 502],
    ];
    for (const [status, type, message, errorClass, clientStatus] of cases) {
      const err = error(status, type, message);
      expect(err.errorClass, type).toBe(errorClass);
      expect(err.status, type).toBe(clientStatus);
      expect(err.code).toBe(type);
      expect(err.provider).toBe('bedrock-test');
      expect(err.message).toBe(`bedrock-test: ${type}: ${message}`);
    }
  });

  it('reads decorated names, body-only names and non-JSON bodies', () => {
    expect(errorName('ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/')).toBe('ValidationException');
    expect(errorName('aws.protocols#ThrottlingException')).toBe('ThrottlingException');
    expect(error(400, 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/', 'bad').errorClass).toBe('bad_request');
    expect(bedrockError(429, {}, JSON.stringify({ __type: 'ThrottlingException', message: 'slow' }), target).errorClass).toBe('rate_limit');
    const html = bedrockError(502, {}, '<html>Bad Gateway</html>', target);
    expect(html.errorClass).toBe('upstream');
    expect(html.message).toContain('Bad Gateway');
    expect(bedrockError(401, {}, '', target).errorClass).toBe('auth');
  });

  it('honours Retry-After', () => {
    expect(error(429, 'ThrottlingException', 'slow', { 'retry-after': '3' }).retryAfterMs).toBe(3000);
  });

  it('never echoes credentials', () => {
    const leaky =
      'The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n' +
      "'POST\n/model/x/converse\n\nhost:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-security-token:FwoGZXIvYXdzEXAMPLESESSIONTOKEN'";
    const err = error(403, 'InvalidSignatureException', leaky);
    expect(err.errorClass).toBe('auth');
    expect(err.message).not.toContain('FwoGZXIvYXdzEXAMPLESESSIONTOKEN');
    expect(err.message).toContain('does not match the signature');
    const echoed = error(403, 'UnrecognizedClientException', 'Key AKIAIOSFODNN7EXAMPLE with secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    expect(echoed.message).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(echoed.message).not.toContain('wJalrXUtnFEMI');
  });
});
