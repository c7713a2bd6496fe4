// The gateway's ServerResponse: it carries the request id until the head is written, so the id goes
// out in the same headers object as everything else. A header set early with `setHeader` would put
// every response on node:http's slow path, which re-validates and copies each header `writeHead`
// is given (~1–1.5 % of a plain request's CPU).
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';

export const REQUEST_ID_HEADER = 'x-switchyard-request-id';

export class GatewayResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** Not yet written; `takeRequestId` hands it to whoever builds the head, else `writeHead` adds it. */
  requestId: string | undefined = undefined;

  override writeHead(statusCode: number, statusMessage?: string, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  override writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  override writeHead(statusCode: number, ...rest: unknown[]): this {
    const id = this.requestId;
    if (id !== undefined) {
      this.requestId = undefined;
      if (!this.headersSent) this.setHeader(REQUEST_ID_HEADER, id);
    }
    return super.writeHead(statusCode, ...(rest as [string]));
  }
}

/**
 * Moves the request id of a gateway response into `headers` (which the caller then passes to
 * `writeHead`). Any other response is left alone.
 */
export function takeRequestId(res: ServerResponse, headers: Record<string, string | number>): void {
  const id = (res as Partial<GatewayResponse>).requestId;
  if (id === undefined) return;
  (res as GatewayResponse).requestId = undefined;
  headers[REQUEST_ID_HEADER] = id;
}
