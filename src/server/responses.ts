// The OpenAI Responses API: `POST /v1/responses` runs through the chat request path (routing,
// failover, governance, accounting) with the per-request Responses dialect; stored turns are read,
// listed and deleted by their owner (the virtual key that made them) or the master key.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, badRequest } from '../core/errors.ts';
import { ResponsesDialect } from '../dialects/responses/index.ts';
import { parseResponsesRequest } from '../dialects/responses/request.ts';
import { newIdentity } from '../dialects/responses/response.ts';
import { itemsChars, toChatRequest } from '../dialects/responses/to-chat.ts';
import type { ConversationItem } from '../dialects/responses/types.ts';
import type { Principal } from '../governance/principal.ts';
import type { ResponseStore } from '../store/responses/store.ts';
import type { StoredResponse } from '../store/responses/types.ts';
import type { CompletionService, RequestState } from './completions.ts';
import { parseJsonBody, readBody, sendJson } from './http.ts';
import type { RoutingContext } from './routing-context.ts';

const LIST_LIMIT_MAX = 100;
const LIST_LIMIT_DEFAULT = 20;

function ownerOf(principal: Principal): string {
  return principal.kind === 'key' ? principal.key.id : '';
}

/** Another key's response is reported as missing: existence must not leak across tenants. */
function readable(principal: Principal, record: StoredResponse | undefined): record is StoredResponse {
  return record !== undefined && (principal.kind === 'master' || record.owner === principal.key.id);
}

function notFound(id: string): GatewayError {
  return new GatewayError('not_found', `Response with id '${id}' not found.`, { param: 'response_id', code: 'response_not_found' });
}

export class ResponsesService {
  constructor(
    private readonly completions: CompletionService,
    private readonly store: ResponseStore,
  ) {}

  /** POST /v1/responses */
  async create(ctx: RoutingContext, principal: Principal, req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    const raw = await readBody(req, Math.floor(ctx.config.server.body_limit_mb * 1024 * 1024));
    const parsed = parseResponsesRequest(parseJsonBody(raw));
    let history: ConversationItem[] = [];
    if (parsed.previousResponseId) {
      const previous = await this.store.get(parsed.previousResponseId);
      if (!readable(principal, previous)) {
        throw badRequest(`Previous response with id '${parsed.previousResponseId}' not found.`, 'previous_response_id', 'previous_response_not_found');
      }
      history = [...previous.input, ...previous.response.output];
    }
    const identity = newIdentity();
    const owner = ownerOf(principal);
    const input = history.length > 0 ? [...history, ...parsed.input] : parsed.input;
    state.dialect = new ResponsesDialect({
      identity,
      req: parsed,
      chat: toChatRequest(parsed, history),
      onComplete: async (response) => {
        if (!parsed.store) return;
        const now = Date.now();
        await this.store.put({ id: identity.id, owner, createdAt: now, expiresAt: now + this.store.ttlMs, response, input });
      },
    });
    state.operation = 'responses';
    await this.completions.chat(ctx, principal, req, res, state, { body: parsed.routing, bytes: raw.length + itemsChars(history) });
  }

  /** GET|DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items */
  async resource(principal: Principal, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const method = req.method ?? 'GET';
    const slash = rest.indexOf('/');
    const id = decodeURIComponent(slash === -1 ? rest : rest.slice(0, slash));
    const sub = slash === -1 ? '' : rest.slice(slash + 1);
    if (!id || (sub !== '' && sub !== 'input_items')) throw new GatewayError('not_found', `no route for ${method} /v1/responses/${rest}`, { code: 'unknown_route' });
    const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
    if (sub === 'input_items') {
      requireMethod(method, 'GET');
      return sendJson(res, 200, listInputItems(await this.owned(principal, id), query));
    }
    if (method === 'GET') {
      if (query.get('stream') === 'true') throw badRequest('streaming a stored response back is not supported by this gateway', 'stream', 'unsupported_parameter');
      return sendJson(res, 200, (await this.owned(principal, id)).response);
    }
    requireMethod(method, 'DELETE');
    await this.owned(principal, id);
    await this.store.delete(id);
    sendJson(res, 200, { id, object: 'response', deleted: true });
  }

  private async owned(principal: Principal, id: string): Promise<StoredResponse> {
    const record = await this.store.get(id);
    if (!readable(principal, record)) throw notFound(id);
    return record;
  }
}

function requireMethod(method: string, expected: string): void {
  if (method !== expected) throw new GatewayError('bad_request', `method ${method} is not allowed here; use ${expected}`, { status: 405, code: 'method_not_allowed' });
}

/** OpenAI's cursor list: newest first by default, `after` is an item id, `limit` 1–100. */
export function listInputItems(record: StoredResponse, query: URLSearchParams): { object: 'list'; data: ConversationItem[]; first_id: string | null; last_id: string | null; has_more: boolean } {
  const order = query.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw badRequest("Invalid 'order': expected 'asc' or 'desc'", 'order');
  const limitText = query.get('limit');
  const limit = limitText === null ? LIST_LIMIT_DEFAULT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) throw badRequest(`Invalid 'limit': expected an integer from 1 to ${LIST_LIMIT_MAX}`, 'limit');
  const items = order === 'asc' ? record.input : [...record.input].reverse();
  let start = 0;
  const after = query.get('after');
  if (after) {
    const at = items.findIndex((item) => item.id === after);
    if (at === -1) throw badRequest(`Invalid 'after': no input item '${after}' in this response`, 'after');
    start = at + 1;
  }
  const data = items.slice(start, start + limit);
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < items.length };
}
