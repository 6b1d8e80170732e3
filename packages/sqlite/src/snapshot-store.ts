import { SqlSnapshotStore } from '@trellis/eventstore/sql';
import type { SqliteDatabase } from './database.js';
import { migrateEventTables } from './event-schema.js';

/** Aggregate snapshots in `trellis_snapshots` (SQLite: state as JSON text; statements shared in `SqlSnapshotStore`). */
export class SqliteSnapshotStore extends SqlSnapshotStore {
  private constructor(db: SqliteDatabase) {
    super(db);
  }

  /** Creates the tables if needed (idempotent). */
  static async create(db: SqliteDatabase): Promise<SqliteSnapshotStore> {
    await migrateEventTables(db);
    return new SqliteSnapshotStore(db);
  }
}
