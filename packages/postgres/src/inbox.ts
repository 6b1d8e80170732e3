import type { Clock } from '@trellis/core';
import { SqlInbox } from '@trellis/messaging';
import type { PostgresDatabase } from './database.js';
import { migrateMessaging } from './messaging-schema.js';

/**
 * The inbox on PostgreSQL: a handler's writes and its "processed" mark commit in one
 * transaction. The mark is inserted first, so two members racing on one redelivered message
 * serialise on its unique key and only one applies it.
 *
 * @example
 * ```ts
 * const inbox = await PostgresInbox.create(db);
 * await bus.subscribe('payment.requested', withInbox(inbox, async (msg, tx) => {
 *   await tx.execute('INSERT INTO charges (order_id) VALUES ($1)', [msg.key]);
 * }), { group: 'payments' });
 * ```
 */
export class PostgresInbox extends SqlInbox {
  /** Creates the messaging tables if needed and returns the inbox. */
  static async create(db: PostgresDatabase, options: { clock?: Clock } = {}): Promise<PostgresInbox> {
    await migrateMessaging(db);
    return new PostgresInbox(db, 'trellis_inbox', options);
  }
}
