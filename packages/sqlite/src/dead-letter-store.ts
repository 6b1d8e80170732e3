import type { Clock, SqlTransaction } from '@trellis/core';
import { type DeadLetter, replayPrepared, SqlDeadLetterStore, writeOutboxRows } from '@trellis/messaging';
import type { SqliteDatabase } from './database.js';
import { migrateDeadLetters } from './messaging-schema.js';
import { BusStatements, ConsumerRegistry, insertMessages } from './sqlite-bus-store.js';

/** Options of {@link SqliteDeadLetterStore}. */
export interface SqliteDeadLetterStoreOptions {
  clock?: Clock;
  /** Called after a replay commits (the SQLite bus wakes its consumers). */
  onReplayed?: () => void;
}

/**
 * Dead letters in a SQLite database. Replay puts messages back where they came from, in the
 * same transaction that removes them from the store:
 * - dead letters of the durable SQLite bus (transport `sqlite`, stored in the bus file) are
 *   queued again for their group in the bus tables;
 * - dead letters of another transport (e.g. JetStream consumers keeping their dead letters in
 *   the service database) go to this database's outbox, addressed to their group, and the
 *   service's outbox relay publishes them.
 *
 * @example
 * ```ts
 * const deadLetters = await SqliteDeadLetterStore.create(db);
 * await deadLetters.replay({ group: 'payments', errorCode: 'UPSTREAM_DOWN' });
 * ```
 */
export class SqliteDeadLetterStore extends SqlDeadLetterStore {
  /** Creates the `trellis_dead_letters` table if needed. */
  static async create(
    db: SqliteDatabase,
    options: SqliteDeadLetterStoreOptions = {},
  ): Promise<SqliteDeadLetterStore> {
    await migrateDeadLetters(db);
    return new SqliteDeadLetterStore(db, {
      ...(options.clock ? { clock: options.clock } : {}),
      redeliver: async (tx, deadLetters) => {
        await redeliver(db, tx, deadLetters);
        if (options.onReplayed) tx.afterCommit(options.onReplayed);
      },
    });
  }
}

async function redeliver(
  db: SqliteDatabase,
  tx: SqlTransaction,
  deadLetters: readonly DeadLetter[],
): Promise<void> {
  const viaBus = deadLetters.filter((d) => d.transport === 'sqlite').map(replayPrepared);
  const viaOutbox = deadLetters.filter((d) => d.transport !== 'sqlite').map(replayPrepared);
  if (viaBus.length > 0) {
    await requireTable(tx, 'trellis_bus_messages', 'the durable SQLite bus');
    // Inside the replay's transaction on `db`, so the raw statements join it.
    insertMessages(BusStatements.of(db), viaBus, new ConsumerRegistry());
  }
  if (viaOutbox.length > 0) {
    await requireTable(tx, 'trellis_outbox', 'an outbox (SqliteOutbox.create)');
    await writeOutboxRows(tx, 'trellis_outbox', viaOutbox);
  }
}

async function requireTable(tx: SqlTransaction, table: string, what: string): Promise<void> {
  const rows = await tx.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1", [table]);
  if (rows.length === 0) {
    throw new Error(
      `Cannot replay: this database has no ${table} table; replays need ${what} in the same file`,
    );
  }
}
