// Auto-routing feedback aggregates in the SQLite database (migration 20): read once at start-up, then
// increments added in batches by FeedbackBook's timer, never on the request path. One process owns
// the file, so the aggregates are not shared (no periodic re-read).
import type { FeedbackAggregate, FeedbackStore } from '../../routing/feedback.ts';
import type { SqliteDatabase } from './database.ts';

export class SqliteFeedbackStore implements FeedbackStore {
  private readonly upsert;
  private readonly previousScore;
  private readonly setScore;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly now: () => number = Date.now,
  ) {
    this.upsert = db.prepare(`
      INSERT INTO feedback_aggregates (scope, cluster, model, n, success, updated_at) VALUES (@scope, @cluster, @model, @n, @success, @at)
      ON CONFLICT (scope, cluster, model) DO UPDATE SET n = n + excluded.n, success = success + excluded.success, updated_at = excluded.updated_at`);
    this.previousScore = db.prepare('SELECT feedback_score AS score FROM usage_records WHERE request_id = ?');
    this.setScore = db.prepare('UPDATE usage_records SET feedback_score = ? WHERE request_id = ?');
  }

  /** A request's latest score, in its usage record (migration 22 / usage migration 5): `FeedbackArchive.rate`. */
  async rate(requestId: string, score: number): Promise<number | null | undefined> {
    return this.db.transaction((): number | null | undefined => {
      const row = this.previousScore.get(requestId) as { score: number | null } | undefined;
      if (row) this.setScore.run(score, requestId);
      return row?.score;
    })();
  }

  async load(): Promise<FeedbackAggregate[]> {
    const rows = this.db.prepare('SELECT scope, cluster, model, n, success FROM feedback_aggregates ORDER BY scope, cluster, model').all() as FeedbackAggregate[];
    return rows.filter((r) => r.scope === 'model' || r.scope === 'cheap_tiers');
  }

  async add(increments: readonly FeedbackAggregate[]): Promise<void> {
    const at = this.now();
    this.db.transaction((rows: readonly FeedbackAggregate[]) => {
      for (const r of rows) this.upsert.run({ scope: r.scope, cluster: r.cluster, model: r.model, n: r.n, success: r.success, at });
    })(increments);
  }
}
