/**
 * Process-manager state on SQLite (`trellis_process_instances`), written in the handler's
 * transaction of the service database. SQLite serialises write transactions, so loading a
 * flow needs no lock; the version check still catches a concurrent writer in another process.
 * The statements are shared with PostgreSQL (`SqlProcessStore`); this adds the table.
 */
import { SqlProcessStore } from '@trellis/saga/sql';
import type { SqliteDatabase } from './database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS trellis_process_instances (
  manager TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  status TEXT NOT NULL,
  outcome TEXT,
  state TEXT NOT NULL,
  deadline_at INTEGER,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  history TEXT NOT NULL,
  PRIMARY KEY (manager, correlation_id)
);
CREATE INDEX IF NOT EXISTS trellis_process_due ON trellis_process_instances (manager, deadline_at)
  WHERE status = 'active' AND deadline_at IS NOT NULL;
`;

/**
 * The SQLite {@link ProcessStore}.
 *
 * @example
 * ```ts
 * const pm = new ProcessManager(paymentWatch, { store: await SqliteProcessStore.create(db), outbox });
 * ```
 */
export class SqliteProcessStore extends SqlProcessStore {
  private constructor(private readonly sqlite: SqliteDatabase) {
    super(sqlite);
  }

  /** Creates the table if needed and returns the store. */
  static async create(db: SqliteDatabase): Promise<SqliteProcessStore> {
    const store = new SqliteProcessStore(db);
    await store.init();
    return store;
  }

  async init(): Promise<void> {
    await this.sqlite.transaction(async () => {
      this.sqlite.raw.exec(SCHEMA);
    });
  }
}
