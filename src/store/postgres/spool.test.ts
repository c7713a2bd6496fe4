import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../usage/record.ts';
import { SpoolFile } from './spool.ts';

const rec = (i: number): UsageRecord => ({
  requestId: `r${i}`,
  ts: 1_000 + i,
  dialect: 'openai',
  operation: 'chat',
  requestedModel: 'm',
  status: 200,
  stream: false,
  promptTokens: 1,
  completionTokens: 1,
  cachedTokens: 0,
  costUsd: 0,
  usageEstimated: false,
  latencyMs: 1,
  attempts: 1,
  clientAbandoned: false,
});

describe('SpoolFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends JSON lines, replays them oldest first in chunks, and truncates once all are replayed', async () => {
    const spool = new SpoolFile(join(dir, 'nested', 'spool.jsonl'), 1 << 20);
    expect(await spool.append([rec(1), rec(2), rec(3)])).toMatchObject({ spooled: 3, rejected: [] });
    expect(await spool.append([rec(4), rec(5)])).toMatchObject({ spooled: 2 });
    const first = await spool.readChunk(2);
    expect(first.records.map((r) => r.requestId)).toStrictEqual(['r1', 'r2']);
    await spool.commit(first.end);
    expect(spool.pendingBytes).toBeGreaterThan(0);
    await spool.append([rec(6)]); // appended during replay
    const rest = await spool.readChunk(10);
    expect(rest.records.map((r) => r.requestId)).toStrictEqual(['r3', 'r4', 'r5', 'r6']);
    await spool.commit(rest.end);
    expect(spool.pendingBytes).toBe(0);
    expect((await stat(join(dir, 'nested', 'spool.jsonl'))).size).toBe(0);
    await spool.close();
  });

  it('rejects what does not fit under the bound, keeping the oldest', async () => {
    const line = Buffer.byteLength(`${JSON.stringify(rec(1))}\n`);
    const spool = new SpoolFile(join(dir, 'spool.jsonl'), line * 2 + 5);
    const result = await spool.append([rec(1), rec(2), rec(3)]);
    expect(result.spooled).toBe(2);
    expect(result.rejected.map((r) => r.requestId)).toStrictEqual(['r3']);
    expect((await spool.append([rec(4)])).rejected).toHaveLength(1);
    expect((await stat(join(dir, 'spool.jsonl'))).size).toBeLessThanOrEqual(line * 2 + 5);
    await spool.close();
  });

  it('cuts a torn final line on open and skips unreadable lines on replay', async () => {
    const path = join(dir, 'spool.jsonl');
    await writeFile(path, `${JSON.stringify(rec(1))}\nnot json\n{"requestId":"x"}\n${JSON.stringify(rec(2)).slice(0, 20)}`);
    const spool = new SpoolFile(path, 1 << 20);
    await spool.open();
    await spool.append([rec(3)]);
    const chunk = await spool.readChunk(10);
    expect(chunk.records.map((r) => r.requestId)).toStrictEqual(['r1', 'r3']);
    expect(chunk.corrupt).toBe(2);
    await spool.commit(chunk.end);
    expect(await readFile(path, 'utf8')).toBe('');
    await spool.close();
  });

  it('reads lines longer than one read block', async () => {
    const path = join(dir, 'spool.jsonl');
    const big = { ...rec(1), candidates: 'x'.repeat(3 << 20) };
    await appendFile(path, `${JSON.stringify(big)}\n${JSON.stringify(rec(2))}\n`);
    const spool = new SpoolFile(path, 1 << 30);
    const chunk = await spool.readChunk(10);
    expect(chunk.records.map((r) => r.requestId)).toStrictEqual(['r1', 'r2']);
    expect(chunk.records[0].candidates).toHaveLength(3 << 20);
    await spool.close();
  });

  it('appends synchronously after close with the same format', async () => {
    const path = join(dir, 'spool.jsonl');
    const spool = new SpoolFile(path, 1 << 20);
    await spool.append([rec(1)]);
    await spool.close();
    expect(spool.appendSync([rec(2)])).toMatchObject({ spooled: 1 });
    const again = new SpoolFile(path, 1 << 20);
    expect((await again.readChunk(10)).records.map((r) => r.requestId)).toStrictEqual(['r1', 'r2']);
    await again.close();
  });
});
