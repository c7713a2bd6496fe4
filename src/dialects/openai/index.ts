import type { ChatCompletion } from '../../core/canonical.ts';
import type { GatewayError } from '../../core/errors.ts';
import type { IngressDialect } from '../types.ts';
import { parseChatRequest } from './request.ts';
import { createOpenAIStreamEncoder } from './stream.ts';

export const openaiDialect: IngressDialect = {
  name: 'openai',
  parseChat: parseChatRequest,
  renderChat: (completion: ChatCompletion) => completion,
  createStreamEncoder: createOpenAIStreamEncoder,
  renderError: (err: GatewayError) => err.toOpenAI(),
};
