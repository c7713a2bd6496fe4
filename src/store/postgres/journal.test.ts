import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../usage/record.ts';
import { UsageJournal } from './journal.ts';

const dirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-journal-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function record(i: number): UsageRecord {
  return {
    requestId: `req_${i}`,
    ts: 1_700_000_000_000 + i,
    dialect: 'openai',
    operation: 'chat',
    requestedModel: 'm',
    status: 200,
    stream: false,
    promptTokens: 1,
    completionTokens: 2,
    cachedTokens: 0,
    costUsd: 0.001,
    usageEstimated: false,
    latencyMs: 5,
    attempts: 1,
    clientAbandoned: false,
  };
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('usage-journal-'));
const lines = (dir: string) => segments(dir).flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean));

describe('UsageJournal', () => {
  it('durable() resolves once every record appended before it is in the file', async () => {
    const dir = scratch();
    const journal = await UsageJournal.open({ dir, flushed: async () => undefined, rotateMs: 60_000 }, () => undefined);
    expect(journal.durable()).toBeUndefined();
    for (let i = 0; i < 50; i++) journal.append(record(i));
    const pending = journal.durable();
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(lines(dir)).toHaveLength(50);
    expect(JSON.parse(lines(dir)[49])).toEqual(record(49));
    await journal.close();
  });

  it('deletes a segment only after the sink has flushed what it holds', async () => {
    const dir = scratch();
    let release: () => void = () => undefined;
    let flushCalls = 0;
    const journal = await UsageJournal.open(
      {
        dir,
        rotateMs: 20,
        flushed: () => {
          flushCalls++;
          return new Promise<void>((resolve) => (release = resolve));
        },
      },
      () => undefined,
    );
    journal.append(record(1));
    await journal.durable();
    await new Promise((r) => setTimeout(r, 80));
    // Rotated (a new segment exists) but the old one is kept until flushed() resolves.
    expect(flushCalls).toBe(1);
    expect(segments(dir)).toHaveLength(2);
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect(segments(dir)).toHaveLength(1);
    expect(lines(dir)).toEqual([]);
    await journal.close();
  });

  it('hands the records of a killed process back at open, flushes them, then removes the old segments', async () => {
    const dir = scratch();
    const torn = `${JSON.stringify(record(1))}\n${JSON.stringify(record(2))}\n{"requestId":"req_3","ts":`;
    writeFileSync(join(dir, 'usage-journal-000000000007.jsonl'), torn);
    const recovered: UsageRecord[] = [];
    let flushed = 0;
    const journal = await UsageJournal.open({ dir, rotateMs: 60_000, flushed: async () => void flushed++ }, (records) => recovered.push(...records));
    expect(recovered.map((r) => r.requestId)).toEqual(['req_1', 'req_2']);
    expect(flushed).toBe(1);
    // The old segment is gone; the new one continues the numbering.
    expect(segments(dir)).toEqual(['usage-journal-000000000008.jsonl']);
    await journal.close();
    await journal.discard();
    expect(segments(dir)).toEqual([]);
  });
});
