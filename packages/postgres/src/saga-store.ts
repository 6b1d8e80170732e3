/**
 * Saga checkpoints on PostgreSQL (`trellis_sagas`, `trellis_saga_events`).
 *
 * - Every write is one statement (instance row and timeline entries together), so a
 *   checkpoint costs one round trip and one commit; concurrent sagas share statements and
 *   commits through group commit ({@link SagaBatcher}).
 * - Ownership is a lease with a fencing token (`version`); claims use
 *   `FOR UPDATE SKIP LOCKED`, so workers in any number of processes never take the same
 *   instance, and a worker whose lease was taken over can no longer write.
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
import type { PostgresDatabase } from './database.js';
import { SagaBatcher } from './saga-batcher.js';
import {
  CHECKPOINT_SQL,
  CLAIM_SQL,
  CREATE_SQL,
  type PgSagaEventRow,
  type PgSagaRow,
  REOPEN_SQL,
  roundTimes,
  SAGA_SCHEMA,
  toEvents,
  toInstance,
} from './saga-sql.js';

/** Options of {@link PostgresSagaStore}. */
export interface PostgresSagaStoreOptions {
  /** Most writes in one group-commit statement (default 256). */
  maxBatch?: number;
  /** Group-commit statements in flight at once (default 2; each holds a pooled connection). */
  maxInFlight?: number;
}

type CreateResult = { created: boolean; instance: SagaInstance };
type CreateInput = { instance: SagaInstance; events: NewSagaEvent[] };

/**
 * The PostgreSQL {@link SagaStore}.
 *
 * @example
 * ```ts
 * const db = PostgresDatabase.connect(process.env.DATABASE_URL!);
 * const runner = new SagaRunner({ store: await PostgresSagaStore.create(db), worker: process.env.HOSTNAME });
 * ```
 */
export class PostgresSagaStore implements SagaStore {
  /** Group commit of starts; `stats` shows how well writes are shared. */
  readonly creates: SagaBatcher<CreateInput, CreateResult>;
  /** Group commit of checkpoints. */
  readonly checkpoints: SagaBatcher<SagaCheckpoint, boolean>;

  private constructor(
    private readonly db: PostgresDatabase,
    options: PostgresSagaStoreOptions,
  ) {
    const batching = { maxBatch: options.maxBatch ?? 256, maxInFlight: options.maxInFlight ?? 2 };
    this.creates = new SagaBatcher((inputs) => this.insert(this.db, inputs), batching);
    this.checkpoints = new SagaBatcher((cps) => this.applyCheckpoints(cps), batching);
  }

  /** Creates the tables if needed (idempotent) and returns the store. */
  static async create(
    db: PostgresDatabase,
    options: PostgresSagaStoreOptions = {},
  ): Promise<PostgresSagaStore> {
    const store = new PostgresSagaStore(db, options);
    await store.init();
    return store;
  }

  async init(): Promise<void> {
    // Concurrent first starts of several processes: serialise the DDL.
    await this.db.transaction(async (tx) => {
      await tx.execute('SELECT pg_advisory_xact_lock(hashtext($1))', ['trellis_sagas']);
      await tx.execute(SAGA_SCHEMA);
    });
  }

  create(instance: SagaInstance, events: NewSagaEvent[], tx?: SqlTransaction): Promise<CreateResult> {
    if (tx) return this.insert(tx, [{ instance, events }]).then((r) => r[0]!);
    return this.creates.submit({ instance, events });
  }

  /** Runs a hot statement as a named prepared statement: planned once per connection, not per call. */
  private async prepared<R>(name: string, text: string, values: unknown[]): Promise<R[]> {
    const res = await this.db.pool.query({ name, text, values }).catch((err) => {
      throw this.db.translateError(err);
    });
    return res.rows as R[];
  }

  checkpoint(cp: SagaCheckpoint): Promise<boolean> {
    return this.checkpoints.submit(cp);
  }

  async claim(req: ClaimRequest): Promise<SagaInstance[]> {
    const rows = await this.prepared<PgSagaRow>('trellis_saga_claim', CLAIM_SQL, [
      req.owner,
      req.worker,
      Math.round(req.leaseUntil),
      Math.round(req.now),
      req.names,
      req.limit,
    ]);
    return rows.map(toInstance);
  }

  async renew(
    owner: string,
    held: ReadonlyArray<{ id: string; version: number }>,
    leaseUntil: number,
  ): Promise<string[]> {
    if (held.length === 0) return [];
    const rows = await this.db.query<{ id: string }>(
      `UPDATE trellis_sagas s SET lease_until = $1
       FROM unnest($2::text[], $3::int[]) AS h(id, version)
       WHERE s.id = h.id AND s.version = h.version AND s.owner = $4
       RETURNING s.id`,
      [Math.round(leaseUntil), held.map((h) => h.id), held.map((h) => h.version), owner],
    );
    return rows.map((r) => r.id);
  }

  async release(owner: string, held: ReadonlyArray<{ id: string; version: number }>): Promise<void> {
    if (held.length === 0) return;
    await this.db.execute(
      `UPDATE trellis_sagas s SET lease_until = 0
       FROM unnest($1::text[], $2::int[]) AS h(id, version)
       WHERE s.id = h.id AND s.version = h.version AND s.owner = $3`,
      [held.map((h) => h.id), held.map((h) => h.version), owner],
    );
  }

  async reopen(
    id: string,
    by: { owner: string; worker: string; leaseUntil: number; now: number },
    events: NewSagaEvent[],
  ): Promise<SagaInstance | undefined> {
    const [row] = await this.db.query<PgSagaRow>(REOPEN_SQL, [
      id,
      by.owner,
      by.worker,
      Math.round(by.leaseUntil),
      JSON.stringify(events.map(roundTimes)),
      Math.round(by.now),
    ]);
    return row ? toInstance(row) : undefined;
  }

  async get(id: string): Promise<SagaInstance | undefined> {
    const [row] = await this.db.query<PgSagaRow>('SELECT * FROM trellis_sagas WHERE id = $1', [id]);
    return row ? toInstance(row) : undefined;
  }

  async list(filter: SagaListFilter = {}): Promise<SagaInstance[]> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    const rows = await this.db.query<PgSagaRow>(
      `SELECT s.* FROM trellis_sagas s
       WHERE ($1::text IS NULL OR s.status = $1) AND ($2::text IS NULL OR s.name = $2)
         AND ($3::text IS NULL OR (s.created_at, s.id) < (SELECT b.created_at, b.id FROM trellis_sagas b WHERE b.id = $3))
       ORDER BY s.created_at DESC, s.id DESC LIMIT $4`,
      [filter.status ?? null, filter.name ?? null, filter.before ?? null, limit],
    );
    return rows.map(toInstance);
  }

  async timeline(id: string): Promise<SagaEvent[]> {
    const rows = await this.db.query<PgSagaEventRow>(
      'SELECT seq, saga_id, entries FROM trellis_saga_events WHERE saga_id = $1 ORDER BY seq',
      [id],
    );
    return toEvents(rows);
  }

  async countByStatus(): Promise<Record<SagaStatus, number>> {
    const rows = await this.db.query<{ status: SagaStatus; n: number }>(
      'SELECT status, count(*)::int AS n FROM trellis_sagas GROUP BY status',
    );
    const counts = emptyCounts();
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  /** Inserts new instances (duplicates within the batch keep the first). */
  private async insert(executor: SqlExecutor, inputs: CreateInput[]): Promise<CreateResult[]> {
    const first = new Map<string, CreateInput>();
    for (const input of inputs) if (!first.has(input.instance.id)) first.set(input.instance.id, input);
    const payload = [...first.values()].map(({ instance, events }) => ({
      ...roundTimes(instance),
      events: events.map(roundTimes),
    }));
    const json = JSON.stringify(payload);
    const rows =
      executor === this.db
        ? await this.prepared<{ id: string }>('trellis_saga_create', CREATE_SQL, [json])
        : await executor.query<{ id: string }>(CREATE_SQL, [json]);
    const inserted = new Set(rows.map((r) => r.id));
    const missing = [...first.keys()].filter((id) => !inserted.has(id));
    const existing = new Map<string, SagaInstance>();
    if (missing.length > 0) {
      const rows = await executor.query<PgSagaRow>('SELECT * FROM trellis_sagas WHERE id = ANY($1::text[])', [
        missing,
      ]);
      for (const row of rows) existing.set(row.id, toInstance(row));
    }
    return inputs.map((input) => {
      const id = input.instance.id;
      if (inserted.has(id) && first.get(id) === input) return { created: true, instance: input.instance };
      if (inserted.has(id)) return { created: false, instance: first.get(id)!.instance };
      const stored = existing.get(id);
      // A conflict with a row that is gone again (deleted in between): let the caller retry.
      if (!stored) throw new Error(`Saga ${id} conflicted with a row that no longer exists; retry the start`);
      return { created: false, instance: stored };
    });
  }

  private async applyCheckpoints(cps: SagaCheckpoint[]): Promise<boolean[]> {
    const payload = cps.map((cp) => ({ ...roundTimes(cp), events: cp.events.map(roundTimes) }));
    const applied = new Set(
      (
        await this.prepared<{ id: string }>('trellis_saga_checkpoint', CHECKPOINT_SQL, [
          JSON.stringify(payload),
        ])
      ).map((r) => r.id),
    );
    return cps.map((cp) => applied.has(cp.id));
  }
}
