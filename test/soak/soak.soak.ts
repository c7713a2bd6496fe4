// A soak at steady, moderate load (default 10 minutes; SOAK_MS overrides): the gateway's heap and
// RSS after a full GC must be flat from the end of the warm-up to the end of the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mb, startGateway, startStack, steadyLoad, type GatewayProcess, type Stack } from './support.ts';

const DURATION_MS = Number(process.env.SOAK_MS ?? 600_000);
const WARMUP_MS = Math.min(60_000, DURATION_MS / 10);
const CONCURRENCY = 4;
const PAUSE_MS = 10;

let stack: Stack;
let gw: GatewayProcess;
beforeAll(async () => {
  stack = await startStack();
  gw = await startGateway(stack, { withMemory: true });
});
afterAll(async () => {
  gw.child.kill('SIGTERM');
  await gw.exit;
  await stack.close();
});

describe('soak', () => {
  it(`${Math.round(DURATION_MS / 60_000)} minutes of steady load: flat heap and RSS`, async () => {
    const started = performance.now();
    const statuses = new Map<number, number>();
    const samples: Array<{ minute: number; heapMb: string; rssMb: string; requests: number }> = [];
    let requests = 0;
    const load = steadyLoad(gw.url, CONCURRENCY, PAUSE_MS, () => performance.now() - started > DURATION_MS, (ack) => {
      requests++;
      statuses.set(ack.status, (statuses.get(ack.status) ?? 0) + 1);
    });
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const first = await gw.memory();
    samples.push({ minute: WARMUP_MS / 60_000, heapMb: mb(first.heapUsed), rssMb: mb(first.rss), requests });
    const every = Math.max(10_000, DURATION_MS / 10);
    while (performance.now() - started < DURATION_MS - every / 2) {
      await new Promise((r) => setTimeout(r, every));
      const m = await gw.memory();
      samples.push({ minute: Number(((performance.now() - started) / 60_000).toFixed(1)), heapMb: mb(m.heapUsed), rssMb: mb(m.rss), requests });
    }
    const { sent, failed } = await load;
    const last = await gw.memory();
    samples.push({ minute: Number(((performance.now() - started) / 60_000).toFixed(1)), heapMb: mb(last.heapUsed), rssMb: mb(last.rss), requests });
    console.log(`soak: ${sent} requests over ${(DURATION_MS / 60_000).toFixed(1)} min (${(sent / (DURATION_MS / 1000)).toFixed(0)} req/s), transport failures ${failed}`);
    console.log('statuses:', Object.fromEntries(statuses));
    console.table(samples);
    console.log(`heap ${mb(first.heapUsed)} → ${mb(last.heapUsed)} MB, RSS ${mb(first.rss)} → ${mb(last.rss)} MB`);
    expect(failed).toBe(0);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(sent / 2);
    // Flat: allowances cover GC timing and allocator noise, not a leak's steady climb.
    expect(last.heapUsed).toBeLessThan(first.heapUsed * 1.25 + 8 * 1048576);
    expect(last.rss).toBeLessThan(first.rss * 1.25 + 32 * 1048576);
  });
});
