// The Anthropic Messages dialect: lets Anthropic SDK clients use any model behind the gateway.
import type { IngressDialect } from '../types.ts';
import { renderAnthropicError } from './errors.ts';
import { parseAnthropicChat } from './request.ts';
import { renderAnthropicMessage } from './response.ts';
import { createAnthropicStreamEncoder } from './stream.ts';

export const anthropicDialect: IngressDialect = {
  name: 'anthropic',
  parseChat: parseAnthropicChat,
  renderChat: renderAnthropicMessage,
  createStreamEncoder: createAnthropicStreamEncoder,
  renderError: renderAnthropicError,
};
