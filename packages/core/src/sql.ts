/**
 * The unit-of-work contract every Trellis backend implements. Events, outbox rows, inbox
 * marks, saga checkpoints, snapshots and projection updates are all written through one
 * {@link SqlTransaction}, so they commit or roll back together: that single transaction is
 * what makes "no lost messages" and "effectively-once handling" real.
 *
 * SQL text uses PostgreSQL-style positional placeholders (`$1`, `$2`, …) on every backend;
 * the SQLite backend rewrites them, so most statements can be shared between backends.
 */

/** Which SQL dialect a backend speaks, for the few statements that differ. */
export type SqlDialect = 'sqlite' | 'postgres';

/** Runs SQL statements. */
export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** Runs a statement and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a statement and returns the number of rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** A statement executor bound to one open transaction. */
export interface SqlTransaction extends SqlExecutor {
  /**
   * Registers a callback to run after this transaction commits (never on rollback), e.g. to
   * wake the outbox relay without waiting for its next poll.
   */
  afterCommit(fn: () => void): void;
}

/** A database handle: the backend's unit of work. */
export interface SqlDatabase extends SqlExecutor {
  /**
   * Runs `fn` inside one transaction: commit if it resolves, roll back if it throws (and
   * rethrow). Statements outside `fn` never see its uncommitted writes.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /** Closes connections; pending transactions finish first. */
  close(): Promise<void>;
}

/** Use `tx` if given, otherwise open a new transaction on `db` for `fn`. */
export function inTransaction<T>(
  db: SqlDatabase,
  tx: SqlTransaction | undefined,
  fn: (tx: SqlTransaction) => Promise<T>,
): Promise<T> {
  return tx ? fn(tx) : db.transaction(fn);
}
