// A UsageSink that shows every record to observers (metrics, traces) before handing it to the store's
// sink. Observers run synchronously after the response and must be cheap and never throw.
import type { UsageQueueStats, UsageRecord, UsageSink, UsageSinkStatsSource } from '../usage/record.ts';

export interface RecordObserver {
  observe(record: UsageRecord): void;
}

export class ObservedUsageSink implements UsageSink, UsageSinkStatsSource {
  readonly journaled: boolean;

  constructor(
    private readonly inner: UsageSink,
    private readonly observers: readonly RecordObserver[],
    private readonly onClose?: () => Promise<void>,
  ) {
    this.journaled = inner.journaled === true;
  }

  record(record: UsageRecord): void {
    for (const observer of this.observers) {
      try {
        observer.observe(record);
      } catch {
        // an observer must never break accounting
      }
    }
    this.inner.record(record);
  }

  stats(): UsageQueueStats {
    const source = this.inner as Partial<UsageSinkStatsSource>;
    return source.stats ? source.stats() : { accepted: 0, queued: 0, written: 0, spooled: 0, dropped: 0 };
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  /** Forwards the inner sink's durability barrier (the multi-replica journal); none when it has none. */
  durable(): Promise<void> | undefined {
    return this.inner.durable?.();
  }

  async close(): Promise<void> {
    await this.inner.close();
    await this.onClose?.();
  }
}
