// Auto-routing feedback aggregates in PostgreSQL (usage migration 4), shared by every replica: each
// adds its increments in batches, and re-reads the totals periodically so all of them learn from
// all the feedback, whichever replica it was sent to.
import type pg from 'pg';
import type { FeedbackAggregate, FeedbackStore } from '../../routing/feedback.ts';
import { requestIdCondition } from './analytics-store.ts';
import { migrateUsageSchema } from './usage-schema.ts';

export class PostgresFeedbackStore implements FeedbackStore {
  readonly shared = true;
  private migrated: Promise<unknown> | undefined;

  /** `schema`: the usage tables' schema (the pool's search_path names it). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema?: string,
  ) {}

  async load(): Promise<FeedbackAggregate[]> {
    await this.ready();
    const { rows } = await this.pool.query<{ scope: string; cluster: string; model: string; n: string; success: string }>(
      "SELECT scope, cluster, model, n, success FROM feedback_aggregates WHERE scope IN ('model', 'cheap_tiers') ORDER BY scope, cluster, model",
    );
    // bigint columns arrive as strings.
    return rows.map((r) => ({ scope: r.scope as FeedbackAggregate['scope'], cluster: r.cluster, model: r.model, n: Number(r.n), success: Number(r.success) }));
  }

  async add(increments: readonly FeedbackAggregate[]): Promise<void> {
    if (increments.length === 0) return;
    await this.ready();
    // One statement, so atomic; a batch never holds the same (scope, cluster, model) twice.
    await this.pool.query(
      `INSERT INTO feedback_aggregates (scope, cluster, model, n, success)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[])
       ON CONFLICT (scope, cluster, model) DO UPDATE
         SET n = feedback_aggregates.n + excluded.n, success = feedback_aggregates.success + excluded.success, updated_at = now()`,
      [
        increments.map((a) => a.scope),
        increments.map((a) => a.cluster),
        increments.map((a) => a.model),
        increments.map((a) => a.n),
        increments.map((a) => a.success),
      ],
    );
  }

  /** A request's latest score, in its usage record (migration 22 / usage migration 5): `FeedbackArchive.rate`. */
  async rate(requestId: string, score: number): Promise<number | null | undefined> {
    await this.ready();
    const where = requestIdCondition(requestId, 2);
    // The row lock makes concurrent ratings of one request (on any replicas) see each other's score.
    const { rows } = await this.pool.query<{ previous: number | null }>(
      `UPDATE usage_records u SET feedback_score = $1
       FROM (SELECT request_id, ts, feedback_score AS previous FROM usage_records WHERE ${where.sql} LIMIT 1 FOR UPDATE) p
       WHERE u.request_id = p.request_id AND u.ts = p.ts
       RETURNING p.previous`,
      [score, ...where.params],
    );
    return rows.length === 0 ? undefined : rows[0].previous;
  }

  /**
   * The usage sink migrates lazily, on its first write (a replica must start while PostgreSQL is
   * down); feedback may come first. Idempotent and serialised across replicas; retried after a failure.
   */
  private ready(): Promise<unknown> {
    this.migrated ??= migrateUsageSchema(this.pool, this.schema !== undefined ? { schema: this.schema } : {}).catch((error: unknown) => {
      this.migrated = undefined;
      throw error;
    });
    return this.migrated;
  }
}
