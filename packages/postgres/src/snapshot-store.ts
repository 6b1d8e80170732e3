import { SqlSnapshotStore } from '@trellis/eventstore/sql';
import type { PostgresDatabase } from './database.js';
import { migrateEventTables } from './event-schema.js';

/** Aggregate snapshots in `trellis_snapshots` (PostgreSQL: state as jsonb; statements shared in `SqlSnapshotStore`). */
export class PostgresSnapshotStore extends SqlSnapshotStore {
  private constructor(db: PostgresDatabase) {
    super(db);
  }

  /** Creates the tables if needed (idempotent). */
  static async create(db: PostgresDatabase): Promise<PostgresSnapshotStore> {
    await migrateEventTables(db);
    return new PostgresSnapshotStore(db);
  }
}
