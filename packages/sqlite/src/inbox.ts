import type { Clock } from '@trellis/core';
import { SqlInbox } from '@trellis/messaging';
import type { SqliteDatabase } from './database.js';
import { migrateInbox } from './messaging-schema.js';

/**
 * The inbox on SQLite: a handler's writes and its "processed" mark commit in one transaction
 * of the service's database, so a redelivered message is skipped.
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
  /** Creates the `trellis_inbox` table if needed and returns the inbox. */
  static async create(db: SqliteDatabase, options: { clock?: Clock } = {}): Promise<SqliteInbox> {
    await migrateInbox(db);
    return new SqliteInbox(db, 'trellis_inbox', options);
  }
}
