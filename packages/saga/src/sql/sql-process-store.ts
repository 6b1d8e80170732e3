/**
 * The process-manager store over any {@link SqlDatabase}: the statements of
 * `SqliteProcessStore` (`@trellis/sqlite`) and `PostgresProcessStore` (`@trellis/postgres`),
 * written once. The backends differ only in the table's DDL (their `init`), in PostgreSQL's
 * casts (`jsonb`, `int`, `text`), in how jsonb comes back (already parsed; SQLite's JSON is
 * text) and in `load` taking the flow's row lock (`FOR UPDATE`) on PostgreSQL, so that two
 * members handling two events of one flow take turns. SQLite serialises write transactions,
 * so it needs no lock; the version check still catches a concurrent writer in another process.
 */
import { ConflictError, type SqlDatabase, type SqlExecutor, type SqlTransaction } from '@trellis/core';
import {
  type ProcessInstance,
  type ProcessListFilter,
  type ProcessStore,
  processListLimit,
} from '../choreography/process-store.js';

interface Row {
  manager: string;
  correlation_id: string;
  status: 'active' | 'done';
  outcome: string | null;
  /** JSON text on SQLite, parsed jsonb on PostgreSQL. */
  state: unknown;
  deadline_at: number | null;
  version: number;
  created_at: number;
  updated_at: number;
  history: unknown;
}

/**
 * `trellis_process_instances` over a {@link SqlDatabase}; a backend adds `init` (its DDL).
 * Internal to the backends: use `SqliteProcessStore` or `PostgresProcessStore`.
 */
export abstract class SqlProcessStore implements ProcessStore<SqlTransaction> {
  /** PostgreSQL: jsonb columns and row locks. */
  private readonly pg: boolean;

  protected constructor(protected readonly db: SqlDatabase) {
    this.pg = db.dialect === 'postgres';
  }

  abstract init(): Promise<void>;

  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  load(tx: SqlTransaction, manager: string, correlationId: string): Promise<ProcessInstance | undefined> {
    return this.read(tx, manager, correlationId, this.pg ? ' FOR UPDATE' : '');
  }

  async save(tx: SqlTransaction, p: ProcessInstance): Promise<void> {
    const [json, int] = this.pg ? ['::jsonb', '::int'] : ['', ''];
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
             VALUES ($1, $2, $3, $4, $5${json}, $6, $7${int} + 1, $8, $9, $10${json})
             ON CONFLICT (manager, correlation_id) DO NOTHING`,
            values,
          )
        : await tx.execute(
            `UPDATE trellis_process_instances SET status = $3, outcome = $4, state = $5${json}, deadline_at = $6,
               version = $7${int} + 1, updated_at = $8, history = $9${json}
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
    return this.read(this.db, manager, correlationId, '');
  }

  async list(manager: string, filter: ProcessListFilter = {}): Promise<ProcessInstance[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM trellis_process_instances WHERE manager = $1 AND ($2${this.pg ? '::text' : ''} IS NULL OR status = $2)
       ORDER BY created_at DESC LIMIT $3`,
      [manager, filter.status ?? null, processListLimit(filter)],
    );
    return rows.map((r) => this.toInstance(r));
  }

  private async read(executor: SqlExecutor, manager: string, correlationId: string, lock: string) {
    const [row] = await executor.query<Row>(
      `SELECT * FROM trellis_process_instances WHERE manager = $1 AND correlation_id = $2${lock}`,
      [manager, correlationId],
    );
    return row ? this.toInstance(row) : undefined;
  }

  private toInstance(r: Row): ProcessInstance {
    // By dialect, not by type: a jsonb state may itself be a JSON string.
    const json = (v: unknown) => (this.pg ? v : JSON.parse(v as string));
    return {
      manager: r.manager,
      correlationId: r.correlation_id,
      status: r.status,
      outcome: r.outcome,
      state: json(r.state),
      deadlineAt: r.deadline_at,
      version: r.version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      history: json(r.history) as ProcessInstance['history'],
    };
  }
}
