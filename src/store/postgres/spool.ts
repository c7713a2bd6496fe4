// The local spool file: usage records that could not be written to PostgreSQL, one JSON object per
// line, appended and fsync'd batch by batch, replayed oldest first and truncated once fully replayed.
// Every operation on the file runs one at a time (a promise chain), so appends, replay reads and the
// final truncation never interleave.
import { closeSync, fsyncSync, mkdirSync, openSync, fstatSync, writeSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { UsageRecord } from '../../usage/record.ts';
import { isUsageRecordLike } from './records.ts';

export interface SpoolAppendResult {
  /** Records now durably in the spool. */
  spooled: number;
  /** Records that did not fit under the size bound (the newest of the batch), or all on a write error. */
  rejected: UsageRecord[];
  /** Set when the write itself failed (disk full, permissions…). */
  error?: Error;
}

export interface SpoolChunk {
  records: UsageRecord[];
  /** File offset just past the last line read; pass to `commit()` once the records are stored. */
  end: number;
  /** Lines that were not a usage record (a torn write from a crash, or a foreign line); skipped. */
  corrupt: number;
}

const READ_BLOCK = 1 << 20;
const NEWLINE = 0x0a;

export class SpoolFile {
  private handle: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** Bytes in the file. */
  private size = 0;
  /** Bytes at the head of the file already replayed (kept until the whole file is, then truncated). */
  private replayed = 0;
  private closed = false;

  constructor(
    readonly path: string,
    /** Largest the file may grow, in bytes. */
    readonly maxBytes: number,
  ) {}

  /** Bytes waiting to be replayed (0 before the file was first opened). */
  get pendingBytes(): number {
    return this.size - this.replayed;
  }

  get bytes(): number {
    return this.size;
  }

  /** Opens the file (creating it and its directory) and learns its size; idempotent. */
  open(): Promise<void> {
    return this.run(async () => {
      await this.fileHandle();
    });
  }

  /** Appends records as JSON lines and fsyncs. Records past the size bound are returned, not written. */
  append(records: readonly UsageRecord[]): Promise<SpoolAppendResult> {
    return this.run(async () => {
      if (records.length === 0) return { spooled: 0, rejected: [] };
      let handle: FileHandle;
      try {
        handle = await this.fileHandle();
      } catch (error) {
        return { spooled: 0, rejected: [...records], error: asError(error) };
      }
      const { buffer, fitted } = this.encode(records);
      if (fitted === 0) return { spooled: 0, rejected: [...records] };
      const before = this.size;
      try {
        await writeFully(handle, buffer);
        await handle.sync();
        this.size += buffer.length;
        return { spooled: fitted, rejected: records.slice(fitted) };
      } catch (error) {
        // Do not leave a torn line that would swallow the next append; best effort.
        await handle.truncate(before).catch(() => undefined);
        return { spooled: 0, rejected: [...records], error: asError(error) };
      }
    });
  }

  /**
   * Synchronous append for records that arrive after the sink was closed (nothing would write them
   * otherwise). Same format and bound as `append`.
   */
  appendSync(records: readonly UsageRecord[]): SpoolAppendResult {
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const fd = openSync(this.path, 'a');
      try {
        this.size = fstatSync(fd).size;
        const { buffer, fitted } = this.encode(records);
        if (fitted === 0) return { spooled: 0, rejected: [...records] };
        let offset = 0;
        while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
        fsyncSync(fd);
        this.size += buffer.length;
        return { spooled: fitted, rejected: records.slice(fitted) };
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      return { spooled: 0, rejected: [...records], error: asError(error) };
    }
  }

  /** Reads up to `maxRecords` records from the oldest not yet replayed. */
  readChunk(maxRecords: number): Promise<SpoolChunk> {
    return this.run(async () => {
      const handle = await this.fileHandle();
      const records: UsageRecord[] = [];
      let corrupt = 0;
      let position = this.replayed;
      let blockSize = READ_BLOCK;
      while (records.length < maxRecords && position < this.size) {
        const length = Math.min(blockSize, this.size - position);
        const block = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(block, 0, length, position);
        let start = 0;
        let consumed = false;
        while (records.length < maxRecords) {
          const nl = block.indexOf(NEWLINE, start);
          if (nl === -1 || nl >= bytesRead) break;
          consumed = true;
          const line = block.toString('utf8', start, nl);
          start = nl + 1;
          if (line.trim() === '') continue;
          const record = parse(line);
          if (record) records.push(record);
          else corrupt += 1;
        }
        if (!consumed) {
          if (position + bytesRead >= this.size) {
            // A final line without a newline cannot be a completed append; skip it.
            corrupt += 1;
            position = this.size;
            break;
          }
          blockSize *= 2; // a line longer than the block: read more at once
          continue;
        }
        position += start;
        blockSize = READ_BLOCK;
      }
      return { records, end: position, corrupt };
    });
  }

  /** Marks everything before `end` replayed; once the whole file is, truncates it to empty. */
  commit(end: number): Promise<void> {
    return this.run(async () => {
      this.replayed = Math.max(this.replayed, Math.min(end, this.size));
      if (this.replayed < this.size) return;
      const handle = await this.fileHandle();
      await handle.truncate(0);
      await handle.sync();
      this.size = 0;
      this.replayed = 0;
    });
  }

  /** Resolves when every operation queued so far has finished. */
  idle(): Promise<void> {
    return this.run(async () => undefined);
  }

  close(): Promise<void> {
    return this.run(async () => {
      this.closed = true;
      const handle = this.handle;
      this.handle = undefined;
      this.opening = undefined;
      await handle?.close();
    });
  }

  private encode(records: readonly UsageRecord[]): { buffer: Buffer; fitted: number } {
    const room = this.maxBytes - this.size;
    const parts: Buffer[] = [];
    let bytes = 0;
    let fitted = 0;
    for (const record of records) {
      const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
      if (bytes + line.length > room) break;
      parts.push(line);
      bytes += line.length;
      fitted += 1;
    }
    return { buffer: Buffer.concat(parts, bytes), fitted };
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.tail.then(op, op);
    this.tail = next.catch(() => undefined);
    return next;
  }

  private fileHandle(): Promise<FileHandle> {
    if (this.handle) return Promise.resolve(this.handle);
    if (this.closed) return Promise.reject(new Error(`spool ${this.path} is closed`));
    this.opening ??= this.openFile().then(
      (handle) => {
        this.handle = handle;
        return handle;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }

  private async openFile(): Promise<FileHandle> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const handle = await open(this.path, 'a+');
    try {
      let size = (await handle.stat()).size;
      // A crash mid-append can leave a final line without its newline; cut it so appends stay aligned.
      if (size > 0) size = await lastLineEnd(handle, size);
      if (size !== (await handle.stat()).size) {
        await handle.truncate(size);
        await handle.sync();
      }
      this.size = size;
      this.replayed = 0;
      await syncDirectory(dir);
      return handle;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }
}

function parse(line: string): UsageRecord | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return isUsageRecordLike(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Offset just past the last newline in the file (0 if none). */
async function lastLineEnd(handle: FileHandle, size: number): Promise<number> {
  let end = size;
  while (end > 0) {
    const length = Math.min(READ_BLOCK, end);
    const block = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(block, 0, length, end - length);
    const nl = block.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (nl !== -1) return end - length + nl + 1;
    end -= length;
  }
  return 0;
}

async function writeFully(handle: FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
    offset += bytesWritten;
  }
}

/** Makes a newly created file's directory entry durable too; not supported everywhere, hence best effort. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // e.g. Windows cannot open a directory
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
