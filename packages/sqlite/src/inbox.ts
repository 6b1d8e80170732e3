import { type Clock, type SqlTransaction, systemClock } from '@trellis/core';
import { type InboxResult, type Message, SqlInbox } from '@trellis/messaging';
import type { SqliteDatabase } from './database.js';
import { migrateInbox } from './messaging-schema.js';

interface Job {
  group: string;
  message: Pick<Message, 'id' | 'topic'>;
  fn: (tx: SqlTransaction) => Promise<unknown>;
  resolve: (r: InboxResult<unknown>) => void;
  reject: (e: unknown) => void;
}

/**
 * The inbox on SQLite: a handler's writes and its "processed" mark commit in one transaction
 * of the service's database, so a redelivered message is skipped.
 *
 * Handlers that finish together share one SQLite transaction (group commit: SQLite spends most
 * of a small write in COMMIT), each inside its own SAVEPOINT: a handler that throws is rolled
 * back to its savepoint alone, with its mark, and its `afterCommit` callbacks are dropped; the
 * others commit. Every handler still sees exactly its own effects + mark commit, or neither.
 *
 * @example
 * ```ts
 * const inbox = await SqliteInbox.create(db);
 * await bus.subscribe('order.created', withInbox(inbox, async (msg, tx) => {
 *   await tx.execute('INSERT INTO invoices (order_id) VALUES ($1)', [msg.key]);
 * }), { group: 'billing' });
 * ```
 */
export class SqliteInbox extends SqlInbox {
  private pending: Job[] = [];
  private draining = false;

  private constructor(
    private readonly sqlite: SqliteDatabase,
    private readonly clockNow: () => number,
    clock: { clock?: Clock },
  ) {
    super(sqlite, 'trellis_inbox', clock);
  }

  /** Creates the `trellis_inbox` table if needed and returns the inbox. */
  static async create(db: SqliteDatabase, options: { clock?: Clock } = {}): Promise<SqliteInbox> {
    await migrateInbox(db);
    const clock = options.clock ?? systemClock;
    return new SqliteInbox(db, () => clock.now(), options);
  }

  override run<T>(
    group: string,
    message: Pick<Message, 'id' | 'topic'>,
    fn: (tx: SqlTransaction) => Promise<T>,
  ): Promise<InboxResult<T>> {
    return new Promise<InboxResult<T>>((resolve, reject) => {
      this.pending.push({
        group,
        message,
        fn,
        resolve: resolve as (r: InboxResult<unknown>) => void,
        reject,
      });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const jobs = this.pending;
      this.pending = [];
      const outcomes: Array<{ ok: true; result: InboxResult<unknown> } | { ok: false; error: unknown }> = [];
      try {
        await this.sqlite.transaction(async (tx) => {
          for (const job of jobs) outcomes.push(await this.runOne(tx, job));
        });
      } catch (error) {
        // The commit itself failed: nothing of this batch was written.
        for (const job of jobs) job.reject(error);
        continue;
      }
      jobs.forEach((job, i) => {
        const o = outcomes[i];
        if (o?.ok) job.resolve(o.result);
        else job.reject(o?.error);
      });
    }
    this.draining = false;
  }

  private async runOne(
    tx: SqlTransaction,
    job: Job,
  ): Promise<{ ok: true; result: InboxResult<unknown> } | { ok: false; error: unknown }> {
    await tx.execute('SAVEPOINT trellis_inbox');
    const hooks: Array<() => void> = [];
    const scoped: SqlTransaction = {
      dialect: tx.dialect,
      query: (sql, params) => tx.query(sql, params),
      execute: (sql, params) => tx.execute(sql, params),
      afterCommit: (fn) => void hooks.push(fn),
    };
    try {
      const inserted = await tx.execute(
        `INSERT INTO trellis_inbox (group_name, message_id, topic, processed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_name, message_id) DO NOTHING`,
        [job.group, job.message.id, job.message.topic, this.clockNow()],
      );
      const result: InboxResult<unknown> =
        inserted === 0 ? { duplicate: true } : { duplicate: false, value: await job.fn(scoped) };
      await tx.execute('RELEASE trellis_inbox');
      for (const hook of hooks) tx.afterCommit(hook);
      return { ok: true, result };
    } catch (error) {
      await tx.execute('ROLLBACK TO trellis_inbox');
      await tx.execute('RELEASE trellis_inbox');
      return { ok: false, error };
    }
  }
}
