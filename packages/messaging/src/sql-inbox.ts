import { type Clock, type SqlDatabase, type SqlTransaction, systemClock } from '@trellis/core';
import type { Inbox, InboxResult } from './inbox.js';
import type { Message } from './message.js';

/**
 * The inbox for both SQL backends (each creates the table). The mark is inserted *first*,
 * with `ON CONFLICT DO NOTHING`: on PostgreSQL a concurrent duplicate blocks on the unique key
 * until the first transaction ends, then sees the mark and skips, so two members racing on one
 * redelivered message cannot both apply it. On SQLite, transactions are serialised anyway.
 */
export class SqlInbox implements Inbox<SqlTransaction> {
  private readonly clock: Clock;

  constructor(
    private readonly db: SqlDatabase,
    readonly table = 'trellis_inbox',
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  async run<T>(
    group: string,
    message: Pick<Message, 'id' | 'topic'>,
    fn: (tx: SqlTransaction) => Promise<T>,
  ): Promise<InboxResult<T>> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.execute(
        `INSERT INTO ${this.table} (group_name, message_id, topic, processed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_name, message_id) DO NOTHING`,
        [group, message.id, message.topic, this.clock.now()],
      );
      if (inserted === 0) return { duplicate: true } as const;
      return { duplicate: false, value: await fn(tx) } as const;
    });
  }

  async has(group: string, messageId: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 AS one FROM ${this.table} WHERE group_name = $1 AND message_id = $2`,
      [group, messageId],
    );
    return rows.length > 0;
  }

  async prune(olderThanMs: number): Promise<number> {
    return this.db.execute(`DELETE FROM ${this.table} WHERE processed_at < $1`, [olderThanMs]);
  }
}
