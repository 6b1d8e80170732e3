/**
 * Process-manager state on SQLite (`trellis_process_instances`), written in the handler's
 * transaction of the service database. SQLite serialises write transactions, so loading a
 * flow needs no lock; the version check still catches a concurrent writer in another process.
 */
import { ConflictError, type SqlExecutor, type SqlTransaction } from '@trellis/core';
import type { ProcessInstance, ProcessListFilter, ProcessStore } from '@trellis/saga';
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

interface Row {
  manager: string;
  correlation_id: string;
  status: 'active' | 'done';
  outcome: string | null;
  state: string;
  deadline_at: number | null;
  version: number;
  created_at: number;
  updated_at: number;
  history: string;
}

function toInstance(r: Row): ProcessInstance {
  return {
    manager: r.manager,
    correlationId: r.correlation_id,
    status: r.status,
    outcome: r.outcome,
    state: JSON.parse(r.state) as unknown,
    deadlineAt: r.deadline_at,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    history: JSON.parse(r.history) as ProcessInstance['history'],
  };
}

/**
 * The SQLite {@link ProcessStore}.
 *
 * @example
 * ```ts
 * const pm = new ProcessManager(paymentWatch, { store: await SqliteProcessStore.create(db), outbox });
 * ```
 */
export class SqliteProcessStore implements ProcessStore<SqlTransaction> {
  private constructor(private readonly db: SqliteDatabase) {}

  /** Creates the table if needed and returns the store. */
  static async create(db: SqliteDatabase): Promise<SqliteProcessStore> {
    const store = new SqliteProcessStore(db);
    await store.init();
    return store;
  }

  async init(): Promise<void> {
    await this.db.transaction(async () => {
      this.db.raw.exec(SCHEMA);
    });
  }

  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async load(
    tx: SqlTransaction,
    manager: string,
    correlationId: string,
  ): Promise<ProcessInstance | undefined> {
    return this.read(tx, manager, correlationId);
  }

  async save(tx: SqlTransaction, p: ProcessInstance): Promise<void> {
    const values: unknown[] = [
      p.manager,
      p.correlationId,
      p.status,
      p.outcome,
      JSON.stringify(p.state ?? null),
      p.deadlineAt === null ? null : Math.round(p.deadlineAt),
      p.version,
      Math.round(p.createdAt),
      Math.round(p.updatedAt),
      JSON.stringify(p.history),
    ];
    const changed =
      p.version === 0
        ? await tx.execute(
            `INSERT INTO trellis_process_instances (manager, correlation_id, status, outcome, state, deadline_at,
               version, created_at, updated_at, history)
             VALUES ($1, $2, $3, $4, $5, $6, $7 + 1, $8, $9, $10) ON CONFLICT (manager, correlation_id) DO NOTHING`,
            values,
          )
        : await tx.execute(
            `UPDATE trellis_process_instances SET status = $3, outcome = $4, state = $5, deadline_at = $6,
               version = $7 + 1, updated_at = $8, history = $9
             WHERE manager = $1 AND correlation_id = $2 AND version = $7`,
            [...values.slice(0, 7), values[8], values[9]],
          );
    if (changed === 0)
      throw new ConflictError(`Flow ${p.manager}/${p.correlationId} was changed concurrently`);
  }

  async due(manager: string, now: number, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ correlation_id: string }>(
      `SELECT correlation_id FROM trellis_process_instances
       WHERE manager = $1 AND status = 'active' AND deadline_at IS NOT NULL AND deadline_at <= $2
       ORDER BY deadline_at LIMIT $3`,
      [manager, Math.round(now), limit],
    );
    return rows.map((r) => r.correlation_id);
  }

  get(manager: string, correlationId: string): Promise<ProcessInstance | undefined> {
    return this.read(this.db, manager, correlationId);
  }

  async list(manager: string, filter: ProcessListFilter = {}): Promise<ProcessInstance[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM trellis_process_instances WHERE manager = $1 AND ($2 IS NULL OR status = $2)
       ORDER BY created_at DESC LIMIT $3`,
      [manager, filter.status ?? null, Math.min(filter.limit ?? 50, 1000)],
    );
    return rows.map(toInstance);
  }

  private async read(executor: SqlExecutor, manager: string, correlationId: string) {
    const [row] = await executor.query<Row>(
      'SELECT * FROM trellis_process_instances WHERE manager = $1 AND correlation_id = $2',
      [manager, correlationId],
    );
    return row ? toInstance(row) : undefined;
  }
}
