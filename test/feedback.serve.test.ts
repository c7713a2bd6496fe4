// Feedback as `switchyard serve` takes it: the gateway remembers no request in memory, it finds each
// one in the usage records. A request whose record is still queued (here the batch waits a minute)
// is found because the lookup first writes the queue; after a restart, from the records alone. The
// latest score is kept in the record, so rating a request again replaces its earlier score.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killAll, run, type Run } from './support/process.ts';

const MASTER = 'sk-sy-feedback-master-key';
let config = '';
let gwPort = 0;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-feedback-'));
  const simPort = await freePort();
  gwPort = await freePort();
  const sim = run(['simulate', '--format', 'openai', '--port', String(simPort)]);
  await sim.waitFor('listening on');
  config = join(dir, 'switchyard.yaml');
  writeFileSync(
    config,
    `server: { master_key: ${MASTER} }
storage: { sqlite: ${join(dir, 'db.sqlite')} }
providers: [ { name: sim, type: openai, base_url: "http://127.0.0.1:${simPort}/v1", api_key: k } ]
models:
  - { name: gpt-4o-mini, deployments: [ { provider: sim, model: gpt-4o-mini } ] }
usage:
  flush_interval_ms: 60000
`,
  );
});

afterAll(() => killAll());

async function serve(): Promise<Run> {
  const gw = run(['serve', '--config', config, '--port', String(gwPort)]);
  await gw.waitFor('listening on');
  return gw;
}

function feedback(requestId: string, rating: 'up' | 'down' = 'up'): Promise<Response> {
  return fetch(`http://127.0.0.1:${gwPort}/v1/feedback`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ request_id: requestId, rating }),
  });
}

describe('feedback through serve', () => {
  let requestId = '';

  it('finds a request answered a moment ago, while its usage record still waits in the queue', async () => {
    const gw = await serve();
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${gwPort}/v1`, apiKey: MASTER, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Write a haiku about rain.' }] }).withResponse();
    requestId = response.headers.get('x-switchyard-request-id') ?? '';
    const res = await feedback(requestId);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: 'feedback', request_id: requestId, score: 1, previous_score: null, cluster: 'writing', model: 'gpt-4o-mini' });
    // Rated again: the new score replaces the first.
    const again = await feedback(requestId, 'down');
    expect(await again.json()).toMatchObject({ request_id: requestId, score: 0, previous_score: 1 });
    const record = await fetch(`http://127.0.0.1:${gwPort}/admin/v1/requests/${requestId}`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(await record.json()).toMatchObject({ request_id: requestId, task_cluster: 'writing', feedback_score: 0 });
    const unknown = await feedback('req_0000000000000000000000000000dead');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('unknown_request');
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
  });

  it('finds it again after a restart, with its latest score, from the usage records alone', async () => {
    const gw = await serve();
    const res = await feedback(requestId);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ request_id: requestId, score: 1, previous_score: 0, cluster: 'writing', model: 'gpt-4o-mini' });
    gw.child.kill('SIGTERM');
    await gw.exit;
  });
});

describe('feedback when the usage store fails', () => {
  it('answers 503 usage_store_unavailable when the record cannot be read or its score cannot be written', async () => {
    const { parseConfig } = await import('../src/config/index.ts');
    const { Gateway } = await import('../src/server/gateway.ts');
    const outcome = { cluster: 'chat' as const, model: 'gpt-4o-mini' };
    let failing: 'read' | 'write' = 'read';
    const gateway = new Gateway({
      config: parseConfig(`server: { master_key: ${MASTER} }`),
      feedbackArchive: {
        find: async () => {
          if (failing === 'read') throw new Error('database is locked');
          return outcome;
        },
        catchUp: async () => {},
        rate: async () => {
          throw new Error('disk I/O error');
        },
      },
    });
    const { url } = await gateway.listen(0, '127.0.0.1');
    try {
      for (const mode of ['read', 'write'] as const) {
        failing = mode;
        const res = await fetch(`${url}/v1/feedback`, {
          method: 'POST',
          headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
          body: JSON.stringify({ request_id: 'req_00000000000000000000000000000001', rating: 'up' }),
        });
        expect(res.status).toBe(503);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('usage_store_unavailable');
        expect(body.error.message).toContain(mode);
        expect(body.error.message).not.toMatch(/locked|disk/);
      }
    } finally {
      await gateway.close(500);
    }
  });
});
