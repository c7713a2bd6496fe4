// Test support: the admin API on a real node:http server over an in-memory SQLite governance store,
// wired the way the gateway wires it (store → directory → service → resolver → AdminApi).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemoryCounters } from '../governance/counters.ts';
import { GovernanceDirectory } from '../governance/directory.ts';
import { PrincipalResolver } from '../governance/principal.ts';
import { GovernanceService } from '../governance/service.ts';
import type { GovernanceStore } from '../governance/types.ts';
import { openSqliteGovernanceStore } from '../store/governance/open.ts';
import { ADMIN_PREFIX, AdminApi } from './api.ts';
import { AnalyticsService } from '../analytics/service.ts';
import { SqliteAnalyticsStore } from '../store/sqlite/analytics-store.ts';
import { openDatabase } from '../store/sqlite/database.ts';
import { SqliteUsageSink } from '../store/sqlite/usage-sink.ts';

export const TEST_MASTER_KEY = 'sk-sy-test-master-key-0123456789';

export interface AdminTestServer {
  url: string;
  masterKey: string;
  store: GovernanceStore;
  directory: GovernanceDirectory;
  counters: InMemoryCounters;
  service: GovernanceService;
  resolver: PrincipalResolver;
  api: AdminApi;
  /** Usage records written here are what the analytics routes read (in-memory SQLite). */
  usage: SqliteUsageSink;
  /** `fetch` against the server with `key` as the bearer token (none when undefined). */
  call(key: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown; headers: Headers }>;
  close(): Promise<void>;
}

export interface AdminTestServerOptions {
  /** A store to serve (e.g. a SQLite file shared with a CLI under test); default: fresh in-memory. */
  store?: GovernanceStore;
  now?: () => number;
}

export async function startAdminTestServer(options: AdminTestServerOptions = {}): Promise<AdminTestServer> {
  const store = options.store ?? openSqliteGovernanceStore(':memory:');
  await store.migrate();
  const directory = await GovernanceDirectory.load(store);
  const now = options.now ?? Date.now;
  const counters = new InMemoryCounters({ now });
  const service = new GovernanceService({ store, directory, counters, now });
  await service.ensureDefaultOrg();
  const resolver = new PrincipalResolver(directory, TEST_MASTER_KEY);
  const usageDb = openDatabase(':memory:');
  const usage = new SqliteUsageSink(usageDb, { maintenanceIntervalMs: 0 });
  const api = new AdminApi(service, resolver, { analytics: new AnalyticsService(new SqliteAnalyticsStore(usageDb)) });
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path.startsWith(ADMIN_PREFIX)) {
      void api.handle(req, res, path);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const call: AdminTestServer['call'] = async (key, method, path, body) => {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
  };

  return {
    url,
    masterKey: TEST_MASTER_KEY,
    store,
    directory,
    counters,
    service,
    resolver,
    api,
    usage,
    call,
    async close() {
      await usage.close();
      usageDb.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}
