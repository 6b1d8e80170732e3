/**
 * Process-manager state on PostgreSQL (`trellis_process_instances`). `load` takes the flow's
 * row lock (`FOR UPDATE`) inside the handler's transaction, so two members handling two events
 * of one flow take turns; the version check catches the first insert racing another. The
 * statements are shared with SQLite (`SqlProcessStore`); this adds the table.
 */
import { SqlProcessStore } from '@trellis/saga/sql';
import type { PostgresDatabase } from './database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS trellis_process_instances (
  manager text NOT NULL,
  correlation_id text NOT NULL,
  status text NOT NULL,
  outcome text,
  state jsonb NOT NULL,
  deadline_at bigint,
  version integer NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  history jsonb NOT NULL,
  PRIMARY KEY (manager, correlation_id)
);
CREATE INDEX IF NOT EXISTS trellis_process_due ON trellis_process_instances (manager, deadline_at)
  WHERE status = 'active' AND deadline_at IS NOT NULL;
`;

/**
 * The PostgreSQL {@link ProcessStore}.
 *
 * @example
 * ```ts
 * const pm = new ProcessManager(paymentWatch, { store: await PostgresProcessStore.create(db), outbox });
 * ```
 */
export class PostgresProcessStore extends SqlProcessStore {
  private constructor(db: PostgresDatabase) {
    super(db);
  }

  /** Creates the table if needed and returns the store. */
  static async create(db: PostgresDatabase): Promise<PostgresProcessStore> {
    const store = new PostgresProcessStore(db);
    await store.init();
    return store;
  }

  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute('SELECT pg_advisory_xact_lock(hashtext($1))', ['trellis_process_instances']);
      await tx.execute(SCHEMA);
    });
  }
}
