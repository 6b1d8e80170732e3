import { ConflictError, type SqlDatabase, type SqlExecutor } from '@trellis/core';
import {
  type AgentRunRecord,
  pageSize,
  type RunQuery,
  type RunStore,
  type RunSummary,
  summarize,
} from './run-record.js';

const TABLE = 'trellis_agent_runs';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${TABLE} (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    summary TEXT NOT NULL,
    data TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_user ON ${TABLE} (user_id, id)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_status ON ${TABLE} (status, id)`,
];

interface Row {
  id: string;
  user_id: string;
  status: string;
  version: number | string;
  title: string;
  created_at: number | string;
  updated_at: number | string;
  summary: string;
  data: string;
}

/**
 * A {@link RunStore} on any Trellis SQL backend (`SqliteDatabase`, `PostgresDatabase`): one
 * row per run in `trellis_agent_runs`, the record as JSON, with an optimistic `version` so two
 * processes can never both resume the same paused run.
 *
 * @example
 * ```ts
 * const store = new SqlRunStore(SqliteDatabase.open('./data/assistant.db'));
 * await store.migrate();
 * const agent = new Agent({ model, tools, store });
 * ```
 */
export class SqlRunStore implements RunStore {
  constructor(private readonly db: SqlDatabase) {}

  /** Creates the table and indexes if missing (idempotent; run at start-up). */
  async migrate(): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const statement of SCHEMA) await tx.execute(statement);
    });
  }

  /** Saves through `executor` (e.g. an open transaction) or the database. See {@link RunStore.save}. */
  async save(record: AgentRunRecord, executor: SqlExecutor = this.db): Promise<AgentRunRecord> {
    const next: AgentRunRecord = { ...record, version: record.version + 1 };
    const summary = JSON.stringify(summarize(next));
    const data = JSON.stringify(next);
    if (record.version === 0) {
      const inserted = await executor.execute(
        `INSERT INTO ${TABLE} (id, user_id, status, version, title, created_at, updated_at, summary, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
        [
          next.id,
          next.userId,
          next.status,
          next.version,
          next.title,
          next.createdAt,
          next.updatedAt,
          summary,
          data,
        ],
      );
      if (inserted !== 1) throw new ConflictError(`Run ${record.id} already exists`);
    } else {
      const updated = await executor.execute(
        `UPDATE ${TABLE} SET status = $1, version = $2, title = $3, updated_at = $4, summary = $5, data = $6
         WHERE id = $7 AND version = $8`,
        [next.status, next.version, next.title, next.updatedAt, summary, data, next.id, record.version],
      );
      if (updated !== 1) {
        throw new ConflictError(
          `Run ${record.id} was changed concurrently (expected version ${record.version})`,
        );
      }
    }
    return JSON.parse(data) as AgentRunRecord;
  }

  async get(id: string): Promise<AgentRunRecord | undefined> {
    const rows = await this.db.query<Row>(`SELECT data FROM ${TABLE} WHERE id = $1`, [id]);
    const row = rows[0];
    return row ? (JSON.parse(row.data) as AgentRunRecord) : undefined;
  }

  async list(query: RunQuery = {}): Promise<RunSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (query.userId !== undefined) add('user_id = ?', query.userId);
    if (query.status !== undefined) add('status = ?', query.status);
    if (query.before !== undefined) add('id < ?', query.before);
    params.push(pageSize(query.limit));
    const rows = await this.db.query<Row>(
      `SELECT summary FROM ${TABLE} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => JSON.parse(r.summary) as RunSummary);
  }
}
