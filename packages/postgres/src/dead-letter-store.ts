import type { Clock } from '@trellis/core';
import { replayPrepared, SqlDeadLetterStore, writeOutboxRows } from '@trellis/messaging';
import type { PostgresDatabase } from './database.js';
import { migrateMessaging } from './messaging-schema.js';

/**
 * Dead letters in PostgreSQL. Replay writes each message back to this database's outbox,
 * addressed to the group that failed it, in the same transaction that removes the dead
 * letter; the service's outbox relay (woken by `NOTIFY`) publishes it. So `trellis
 * dead-letters replay --db postgres://…` needs no connection to the bus itself.
 *
 * @example
 * ```ts
 * const deadLetters = await PostgresDeadLetterStore.create(db);
 * const bus = await JetStreamBus.connect({ servers, deadLetters });
 * ```
 */
export class PostgresDeadLetterStore extends SqlDeadLetterStore {
  /** Creates the messaging tables if needed. */
  static async create(
    db: PostgresDatabase,
    options: { clock?: Clock } = {},
  ): Promise<PostgresDeadLetterStore> {
    await migrateMessaging(db);
    return new PostgresDeadLetterStore(db, {
      ...(options.clock ? { clock: options.clock } : {}),
      redeliver: (tx, deadLetters) => writeOutboxRows(tx, 'trellis_outbox', deadLetters.map(replayPrepared)),
    });
  }
}
