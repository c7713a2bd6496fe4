// model: "auto" end to end: an easy prompt goes to the cheap model and a hard multi-step maths prompt
// to the strong one, with the decision in headers and usage records; feedback attaches to requests.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledCalibration, percentileOf } from '../src/routing/complexity/scorer.ts';
import { MASTER_KEY, startHarness, type Harness } from './support/harness.ts';

const POOL = `
  - name: cheap-mini
    deployments: [ { provider: openai-main, model: gpt-4o-mini } ]
  - name: mid-haiku
    deployments: [ { provider: claude, model: claude-haiku-4-5-20251001 } ]
  - name: strong-pro
    deployments: [ { provider: gemini, model: gemini-2.5-pro } ]
`;

let h: Harness;
let client: OpenAI;

beforeAll(async () => {
  h = await startHarness({ extraModels: POOL, routing: 'routing: { auto: { models: [cheap-mini, mid-haiku, strong-pro] } }' });
  client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(() => h.close());

const EASY = 'What is the capital of France?';
const HARD =
  'A train leaves city A at 9:40 travelling at 72 km/h; a second train leaves city B, 410 km away, at 10:15 travelling toward A at 88 km/h. ' +
  'A bird flies back and forth between the trains at 130 km/h starting when the second train departs. Derive, step by step, when and where the trains meet, ' +
  'the total distance the bird flies, and prove that your answer is consistent by computing the meeting time a second way. Then generalise: for speeds v1, v2, ' +
  'distance d and a head start of t0 hours, give a closed-form expression for the bird\u2019s distance and show the algebra.';

async function auto(prompt: string, model = 'auto') {
  return client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }] }).withResponse();
}

describe('model: auto', () => {
  it('sends a trivially easy prompt to the cheap model', async () => {
    const { data, response } = await auto(EASY);
    expect(data.choices[0].message.content).toContain('Simulated reply');
    expect(response.headers.get('x-switchyard-deployment')).toMatch(/^cheap-mini\//);
    expect(response.headers.get('x-switchyard-auto-tier')).toBe('economy');
    // Scores are a ranking (docs/auto-routing.md): this one sits among the easiest tenth of the training prompts.
    expect(percentileOf(Number(response.headers.get('x-switchyard-complexity')), bundledCalibration())).toBeLessThan(0.1);
  });

  it('sends a hard multi-step maths prompt to the strong model', async () => {
    const { response } = await auto(HARD);
    expect(response.headers.get('x-switchyard-deployment')).toMatch(/^strong-pro\//);
    expect(response.headers.get('x-switchyard-auto-tier')).toBe('premium');
    const record = h.usage.find(response.headers.get('x-switchyard-request-id'));
    expect(record?.autoTier).toBe('premium');
    expect(record?.complexity).toBeGreaterThan(Number((await auto(EASY)).response.headers.get('x-switchyard-complexity')));
  });

  it('auto:quality sends even the easy prompt up the tiers; a quality_target of 0 keeps the hard one cheap', async () => {
    const quality = await auto(EASY, 'auto:quality');
    expect(quality.response.headers.get('x-switchyard-strategy')).toBe('quality');
    expect(quality.response.headers.get('x-switchyard-deployment')).toMatch(/^strong-pro\//);
    const frugal = await client.chat.completions
      // @ts-expect-error route is a Switchyard extension
      .create({ model: 'auto', route: { quality_target: 0 }, messages: [{ role: 'user', content: HARD }] })
      .withResponse();
    expect(frugal.response.headers.get('x-switchyard-auto-tier')).toBe('economy');
    expect(frugal.response.headers.get('x-switchyard-deployment')).toMatch(/^cheap-mini\//);
  });

  it('takes feedback on an auto-routed request, and refuses unknown request ids', async () => {
    const { response } = await auto(EASY);
    const id = response.headers.get('x-switchyard-request-id');
    const post = (body: unknown) =>
      fetch(`${h.url}/v1/feedback`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ok = await post({ request_id: id, rating: 'up' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ object: 'feedback', score: 1, model: 'cheap-mini', tier: 'economy' });
    expect((await post({ request_id: 'req_nope', score: 0.2 })).status).toBe(404);
    expect((await post({ request_id: id })).status).toBe(400);
  });
});

describe('feedback learning across a restart', () => {
  it('keeps the per-cluster aggregates in the SQLite usage database, so the learned shift survives', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { parseConfig } = await import('../src/config/index.ts');
    const { Gateway } = await import('../src/server/gateway.ts');
    const { createSimulator } = await import('../src/sim/index.ts');
    const { openDatabase } = await import('../src/store/sqlite/database.ts');
    const { SqliteFeedbackStore } = await import('../src/store/sqlite/feedback-store.ts');

    const dir = mkdtempSync(join(tmpdir(), 'switchyard-learning-'));
    const sim = createSimulator('openai', { apiKey: 'sim-secret', outputTokens: 5 });
    const { url: simUrl } = await sim.listen();
    const config = parseConfig(`
server: { master_key: ${MASTER_KEY} }
providers: [ { name: sim, type: openai, base_url: "${simUrl}/v1", api_key: sim-secret } ]
models:
  - { name: cheap, deployments: [ { provider: sim, model: gpt-4o-mini } ] }
  - { name: mid, deployments: [ { provider: sim, model: gpt-4.1-mini } ] }
  - { name: strong, deployments: [ { provider: sim, model: gpt-4.1 } ] }
routing: { auto: { models: [cheap, mid, strong], quality_target: 0.3, learning: { enabled: true, min_samples: 5, target_success: 0.8, max_shift: 0.2 } } }
`, { env: {} });
    const start = async (dbPath: string) => {
      const db = openDatabase(dbPath);
      const gateway = new Gateway({ config, feedbackStore: new SqliteFeedbackStore(db) });
      const { url } = await gateway.listen(0, '127.0.0.1');
      const ask = async (): Promise<{ id: string; tier: string | null }> => {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: EASY }] }),
        });
        await res.text();
        return { id: res.headers.get('x-switchyard-request-id') ?? '', tier: res.headers.get('x-switchyard-auto-tier') };
      };
      const thumbsDown = async (id: string): Promise<number> =>
        (await fetch(`${url}/v1/feedback`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ request_id: id, rating: 'down' }) })).status;
      return { ask, thumbsDown, stop: async () => { await gateway.close(1000); db.close(); } };
    };
    try {
      const first = await start(join(dir, 'usage.db'));
      for (let i = 0; i < 5; i++) {
        const { id, tier } = await first.ask();
        expect(tier).toBe('economy');
        expect(await first.thumbsDown(id)).toBe(200);
      }
      // The cheap tier failed on every 'chat' prompt: the knob moves up by max_shift for that cluster.
      expect((await first.ask()).tier).toBe('standard');
      await first.stop();

      const restarted = await start(join(dir, 'usage.db'));
      expect((await restarted.ask()).tier).toBe('standard');
      await restarted.stop();

      const fresh = await start(join(dir, 'other.db'));
      expect((await fresh.ask()).tier).toBe('economy');
      await fresh.stop();
    } finally {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
