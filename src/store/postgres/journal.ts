// A write-ahead journal for usage records, so that a process killed outright (SIGKILL, OOM kill) loses
// no record of a response it already completed. Each record is appended to a local file with one
// asynchronous write per group of records (group commit: everything recorded while a write is in
// flight goes in the next one); `durable()` resolves once the records passed so far are in the file.
// A write reaches the kernel's page cache, which survives the death of the process (not a power
// loss: that needs fsync, which the spool does but the journal deliberately does not, to stay cheap).
//
// The journal is cut into segments. A segment is deleted once every record in it has been written
// to PostgreSQL or spooled (the sink's `flush()` says so); segments left by a killed process are
// handed back to the sink at the next start and stored idempotently (a record already written is
// skipped by the `(request_id, ts)` key).
import { mkdirSync, readdirSync } from 'node:fs';
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { UsageRecord } from '../../usage/record.ts';
import { isUsageRecordLike } from './records.ts';

const SEGMENT = /^usage-journal-(\d+)\.jsonl$/;

export interface UsageJournalOptions {
  dir: string;
  /** A segment is closed and, once flushed, deleted this often (default 1000 ms). */
  rotateMs?: number;
  /** Resolves once every record recorded before the call is in PostgreSQL or the spool. */
  flushed: () => Promise<void>;
  onError?: (error: Error) => void;
}

interface Waiter {
  seq: number;
  resolve: () => void;
}

export class UsageJournal {
  private readonly dir: string;
  private handle: FileHandle | undefined;
  private segment = 0;
  private segmentRecords = 0;
  private pending: string[] = [];
  /** Records appended / written to the file so far. */
  private appended = 0;
  private written = 0;
  private writing = false;
  private scheduled = false;
  private waiters: Waiter[] = [];
  private readonly rotateTimer: NodeJS.Timeout;
  private rotating: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly options: UsageJournalOptions, firstSegment: number) {
    this.dir = options.dir;
    this.segment = firstSegment;
    this.rotateTimer = setInterval(() => void this.rotate(), options.rotateMs ?? 1000);
    this.rotateTimer.unref();
  }

  /**
   * Opens a fresh segment after `recover` has received every record left by a previous process
   * (and they have been flushed); then deletes those old segments.
   */
  static async open(options: UsageJournalOptions, recover: (records: UsageRecord[]) => void): Promise<UsageJournal> {
    mkdirSync(options.dir, { recursive: true });
    const old = listSegments(options.dir);
    let recovered = 0;
    for (const { name } of old) {
      const text = await readFile(join(options.dir, name), 'utf8');
      const records: UsageRecord[] = [];
      for (const line of text.split('\n')) {
        if (line.length === 0) continue;
        try {
          const value: unknown = JSON.parse(line);
          if (isUsageRecordLike(value)) records.push(value);
        } catch {
          // A torn last line: the write of that group never completed, so no response waited on it.
        }
      }
      recovered += records.length;
      recover(records);
    }
    if (recovered > 0) await options.flushed();
    for (const { name } of old) await unlink(join(options.dir, name));
    const journal = new UsageJournal(options, (old.at(-1)?.seq ?? 0) + 1);
    journal.handle = await open(journal.path(journal.segment), 'a');
    return journal;
  }

  /** Never blocks: the record joins the next group write. */
  append(record: UsageRecord): void {
    if (this.closed) return;
    this.pending.push(`${JSON.stringify(record)}\n`);
    this.appended++;
    if (!this.scheduled && !this.writing) {
      this.scheduled = true;
      setImmediate(this.writeGroup);
    }
  }

  /** Resolves once every record appended so far is in the file; undefined when it already is. */
  durable(): Promise<void> | undefined {
    if (this.written >= this.appended) return undefined;
    const seq = this.appended;
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Stops rotating, waits for the last group; every segment is deleted once the sink has flushed. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.rotateTimer);
    await this.rotating;
    while (this.writing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    await this.handle?.close();
    this.handle = undefined;
  }

  /** After the sink closed (everything stored or spooled): the journal is no longer needed. */
  async discard(): Promise<void> {
    for (const { name } of listSegments(this.dir)) await unlink(join(this.dir, name)).catch(() => undefined);
  }

  private path(seq: number): string {
    return join(this.dir, `usage-journal-${String(seq).padStart(12, '0')}.jsonl`);
  }

  private readonly writeGroup = (): void => {
    this.scheduled = false;
    if (this.writing || this.pending.length === 0 || !this.handle) return;
    const lines = this.pending;
    const upTo = this.appended;
    this.pending = [];
    this.writing = true;
    this.segmentRecords += lines.length;
    const handle = this.handle;
    writeAll(handle, Buffer.from(lines.join('')))
      .catch((err: unknown) => this.options.onError?.(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.writing = false;
        this.written = upTo;
        const ready = this.waiters.filter((w) => w.seq <= upTo);
        if (ready.length > 0) {
          this.waiters = this.waiters.filter((w) => w.seq > upTo);
          for (const w of ready) w.resolve();
        }
        if (this.pending.length > 0) this.writeGroup();
      });
  };

  /** Starts a new segment; deletes the previous one once the sink has flushed what it holds. */
  private rotate(): Promise<void> {
    if (this.rotating || this.closed || this.segmentRecords === 0) return this.rotating ?? Promise.resolve();
    this.rotating = (async () => {
      const previousSeq = this.segment;
      const next = await open(this.path(previousSeq + 1), 'a');
      // Let the group in flight land in the old segment; the swap below is synchronous with this check.
      while (this.writing) await new Promise((r) => setTimeout(r, 1));
      const previous = this.handle;
      this.handle = next;
      this.segment = previousSeq + 1;
      this.segmentRecords = 0;
      await previous?.close();
      // Every record of the old segment was handed to the sink before this call.
      await this.options.flushed();
      await unlink(this.path(previousSeq));
    })()
      .catch((err: unknown) => this.options.onError?.(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.rotating = undefined;
      });
    return this.rotating;
  }
}

function listSegments(dir: string): Array<{ name: string; seq: number }> {
  return readdirSync(dir)
    .map((name) => ({ name, match: SEGMENT.exec(name) }))
    .filter((e): e is { name: string; match: RegExpExecArray } => e.match !== null)
    .map((e) => ({ name: e.name, seq: Number(e.match[1]) }))
    .sort((x, y) => x.seq - y.seq);
}

async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
    offset += bytesWritten;
  }
}
