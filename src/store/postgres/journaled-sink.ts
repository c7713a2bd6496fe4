// The PostgreSQL usage sink behind a write-ahead journal: every record goes to the sink's in-memory
// batch (as before) and to the journal, and `durable()` lets the request path hold a response's last
// bytes until its record would survive a SIGKILL. See journal.ts.
import type { UsageRecord, UsageSink } from '../../usage/record.ts';
import { UsageJournal } from './journal.ts';
import type { PostgresUsageSink } from './usage-sink.ts';

export class JournaledUsageSink implements UsageSink {
  private constructor(
    readonly inner: PostgresUsageSink,
    private readonly journal: UsageJournal,
  ) {}

  /** Hands records left in `dir` by a killed process to the sink first, then starts a new journal. */
  static async open(inner: PostgresUsageSink, dir: string, options: { rotateMs?: number; onError?: (error: Error) => void; onRecovered?: (count: number) => void } = {}): Promise<JournaledUsageSink> {
    let recovered = 0;
    const journal = await UsageJournal.open(
      { dir, flushed: () => inner.flush(), ...(options.rotateMs !== undefined && { rotateMs: options.rotateMs }), ...(options.onError && { onError: options.onError }) },
      (records) => {
        recovered += records.length;
        for (const record of records) inner.record(record);
      },
    );
    if (recovered > 0) options.onRecovered?.(recovered);
    return new JournaledUsageSink(inner, journal);
  }

  readonly journaled = true;

  record(record: UsageRecord): void {
    this.inner.record(record);
    this.journal.append(record);
  }

  durable(): Promise<void> | undefined {
    return this.journal.durable();
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  /** Stores or spools everything, then drops the journal (nothing in it is needed any more). */
  async close(): Promise<void> {
    await this.journal.close();
    await this.inner.close();
    await this.journal.discard();
  }
}
