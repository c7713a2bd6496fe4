// The admin API loaded on its first request. Its modules (routes, request schemas, OpenAPI, replay)
// hold ~2.5 MB of heap that a gateway nobody administers never needs; the first admin request pays
// the import (tens of milliseconds) once.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadOnce } from '../core/load-once.ts';
import type { AdminHandler } from '../server/gateway.ts';

/** An `AdminHandler` that calls `load` on its first request (again on the next one if it failed). */
export function lazyAdmin(load: () => Promise<AdminHandler>): AdminHandler {
  const loaded = loadOnce(load);
  return {
    async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
      return (await loaded()).handle(req, res, path);
    },
  };
}
