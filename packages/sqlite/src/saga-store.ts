/**
 * Saga checkpoints on SQLite (`trellis_sagas`, `trellis_saga_events`), on the same connection
 * and unit of work as events, outbox and inbox: a saga can be started in the transaction that
 * writes the order, and each checkpoint is one short write transaction.
 *
 * Ownership across processes sharing the file: SQLite runs one writer at a time, so a claim
 * (select expired leases + take them) is atomic by itself; fencing is the `version` check.
 */
import type { SqlExecutor, SqlTransaction } from '@trellis/core';
import {
  type ClaimRequest,
  emptyCounts,
  type NewSagaEvent,
  type SagaCheckpoint,
  type SagaEvent,
  type SagaInstance,
  type SagaListFilter,
  type SagaStatus,
  type SagaStore,
} from '@trellis/saga';
import type { SqliteDatabase } from './database.js';
import {
  eventParams,
  INSERT_EVENT,
  type SagaEventRow,
  type SagaRow,
  toEvent,
  toInstance,
} from './saga-rows.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS trellis_sagas (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  step INTEGER NOT NULL,
  context TEXT NOT NULL,
  input TEXT NOT NULL,
  error TEXT,
  resume_status TEXT,
  trace TEXT NOT NULL,
  owner TEXT,
  worker TEXT,
  lease_until INTEGER NOT NULL,
  version INTEGER NOT NULL,
  recoveries INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trellis_sagas_active ON trellis_sagas (lease_until)
  WHERE status IN ('running', 'compensating');
CREATE INDEX IF NOT EXISTS trellis_sagas_status ON trellis_sagas (status, created_at, id);
CREATE INDEX IF NOT EXISTS trellis_sagas_created ON trellis_sagas (created_at, id);
CREATE TABLE IF NOT EXISTS trellis_saga_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  saga_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  step TEXT,
  attempt INTEGER,
  duration_ms REAL,
  error TEXT,
  note TEXT
);
CREATE INDEX IF NOT EXISTS trellis_saga_events_saga ON trellis_saga_events (saga_id, seq);
`;

const INSERT_SAGA = `INSERT INTO trellis_sagas (id, name, status, step, context, input, error, resume_status, trace,
  owner, worker, lease_until, version, recoveries, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO NOTHING`;

/**
 * The SQLite {@link SagaStore}.
 *
 * @example
 * ```ts
 * const db = SqliteDatabase.open('./data/orders.db');
 * const runner = new SagaRunner({ store: await SqliteSagaStore.create(db), worker: 'orders-1' });
 * ```
 */
export class SqliteSagaStore implements SagaStore {
  private constructor(private readonly db: SqliteDatabase) {}

  /** Creates the tables if needed (idempotent) and returns the store. */
  static async create(db: SqliteDatabase): Promise<SqliteSagaStore> {
    const store = new SqliteSagaStore(db);
    await store.init();
    return store;
  }

  async init(): Promise<void> {
    await this.db.transaction(async () => {
      this.db.raw.exec(SCHEMA);
    });
  }

  async create(
    instance: SagaInstance,
    events: NewSagaEvent[],
    tx?: SqlTransaction,
  ): Promise<{ created: boolean; instance: SagaInstance }> {
    const run = async (t: SqlExecutor) => {
      const i = instance;
      const inserted = await t.execute(INSERT_SAGA, [
        i.id,
        i.name,
        i.status,
        i.step,
        JSON.stringify(i.context),
        JSON.stringify(i.input),
        i.error ? JSON.stringify(i.error) : null,
        i.resumeStatus,
        JSON.stringify(i.trace),
        i.owner,
        i.worker,
        Math.round(i.leaseUntil),
        i.version,
        i.recoveries,
        Math.round(i.createdAt),
        Math.round(i.updatedAt),
      ]);
      if (inserted === 0) {
        const [row] = await t.query<SagaRow>('SELECT * FROM trellis_sagas WHERE id = $1', [i.id]);
        return { created: false, instance: toInstance(row!) };
      }
      for (const e of events) await t.execute(INSERT_EVENT, eventParams(i.id, e));
      return { created: true, instance };
    };
    return tx ? run(tx) : this.db.transaction(run);
  }

  async checkpoint(cp: SagaCheckpoint): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const changed = await tx.execute(
        `UPDATE trellis_sagas SET status = $3, step = $4, context = COALESCE($5, context), error = $6,
           resume_status = $7, recoveries = $8, lease_until = COALESCE($9, lease_until), updated_at = $10,
           version = version + 1
         WHERE id = $1 AND version = $2`,
        [
          cp.id,
          cp.expectedVersion,
          cp.status,
          cp.step,
          cp.context ? JSON.stringify(cp.context) : null,
          cp.error ? JSON.stringify(cp.error) : null,
          cp.resumeStatus,
          cp.recoveries,
          cp.leaseUntil === undefined ? null : Math.round(cp.leaseUntil),
          Math.round(cp.updatedAt),
        ],
      );
      if (changed === 0) return false;
      for (const e of cp.events) await tx.execute(INSERT_EVENT, eventParams(cp.id, e));
      return true;
    });
  }

  async claim(req: ClaimRequest): Promise<SagaInstance[]> {
    const rows = await this.db.transaction((tx) =>
      tx.query<SagaRow>(
        `UPDATE trellis_sagas SET owner = $1, worker = $2, lease_until = $3, version = version + 1,
           recoveries = recoveries + 1, updated_at = $4
         WHERE id IN (
           SELECT id FROM trellis_sagas
           WHERE status IN ('running', 'compensating')
             AND name IN (SELECT value FROM json_each($5))
             AND (lease_until <= $4 OR (worker = $2 AND owner <> $1))
           ORDER BY lease_until LIMIT $6)
         RETURNING *`,
        [
          req.owner,
          req.worker,
          Math.round(req.leaseUntil),
          Math.round(req.now),
          JSON.stringify(req.names),
          req.limit,
        ],
      ),
    );
    return rows.map(toInstance);
  }

  async renew(
    owner: string,
    held: ReadonlyArray<{ id: string; version: number }>,
    leaseUntil: number,
  ): Promise<string[]> {
    if (held.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const renewed: string[] = [];
      for (const h of held) {
        const n = await tx.execute(
          'UPDATE trellis_sagas SET lease_until = $1 WHERE id = $2 AND owner = $3 AND version = $4',
          [Math.round(leaseUntil), h.id, owner, h.version],
        );
        if (n > 0) renewed.push(h.id);
      }
      return renewed;
    });
  }

  async release(owner: string, held: ReadonlyArray<{ id: string; version: number }>): Promise<void> {
    if (held.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const h of held) {
        await tx.execute(
          'UPDATE trellis_sagas SET lease_until = 0 WHERE id = $1 AND owner = $2 AND version = $3',
          [h.id, owner, h.version],
        );
      }
    });
  }

  async reopen(
    id: string,
    by: { owner: string; worker: string; leaseUntil: number; now: number },
    events: NewSagaEvent[],
  ): Promise<SagaInstance | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<SagaRow>(
        `UPDATE trellis_sagas SET status = resume_status, resume_status = NULL, owner = $2, worker = $3,
           lease_until = $4, recoveries = 0, version = version + 1, updated_at = $5
         WHERE id = $1 AND status = 'failed' AND resume_status IS NOT NULL
         RETURNING *`,
        [id, by.owner, by.worker, Math.round(by.leaseUntil), Math.round(by.now)],
      );
      if (!row) return undefined;
      for (const e of events) await tx.execute(INSERT_EVENT, eventParams(id, e));
      return toInstance(row);
    });
  }

  async get(id: string): Promise<SagaInstance | undefined> {
    const [row] = await this.db.query<SagaRow>('SELECT * FROM trellis_sagas WHERE id = $1', [id]);
    return row ? toInstance(row) : undefined;
  }

  async list(filter: SagaListFilter = {}): Promise<SagaInstance[]> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    const rows = await this.db.query<SagaRow>(
      `SELECT s.* FROM trellis_sagas s
       LEFT JOIN trellis_sagas b ON b.id = $3
       WHERE ($1 IS NULL OR s.status = $1) AND ($2 IS NULL OR s.name = $2)
         AND ($3 IS NULL OR (b.id IS NOT NULL AND (s.created_at < b.created_at OR (s.created_at = b.created_at AND s.id < b.id))))
       ORDER BY s.created_at DESC, s.id DESC LIMIT $4`,
      [filter.status ?? null, filter.name ?? null, filter.before ?? null, limit],
    );
    return rows.map(toInstance);
  }

  async timeline(id: string): Promise<SagaEvent[]> {
    const rows = await this.db.query<SagaEventRow>(
      'SELECT * FROM trellis_saga_events WHERE saga_id = $1 ORDER BY seq',
      [id],
    );
    return rows.map(toEvent);
  }

  async countByStatus(): Promise<Record<SagaStatus, number>> {
    const rows = await this.db.query<{ status: SagaStatus; n: number }>(
      'SELECT status, COUNT(*) AS n FROM trellis_sagas GROUP BY status',
    );
    const counts = emptyCounts();
    for (const r of rows) counts[r.status] = Number(r.n);
    return counts;
  }
}
