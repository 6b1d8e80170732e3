import { type Clock, type SqlTransaction, systemClock } from '@trellis/core';
import {
  type AppendHook,
  AppendHookList,
  type AppendOptions,
  type AppendResult,
  ConcurrencyError,
  checkCount,
  type DomainEvent,
  type EventRegistry,
  type EventStore,
  type EventStoreOptions,
  type NewEvent,
  type PreparedAppend,
  prepareAppend,
  type ReadOptions,
  storedEvent,
  versionMatches,
} from '@trellis/eventstore';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';
import { type EventRow, eventFromRow, migrateEventTables } from './event-schema.js';

const COLUMNS =
  'position, stream_id, version, id, aggregate_type, event_type, schema_version, payload, metadata, created_at';

/**
 * The event store on SQLite (better-sqlite3, WAL). Positions come from an `AUTOINCREMENT`
 * rowid assigned inside `BEGIN IMMEDIATE` write transactions; SQLite has one writer at a
 * time (across processes too), so positions are assigned in commit order and never reused:
 * the global log is gap-free by construction.
 *
 * Appends run synchronously on the connection inside the unit-of-work transaction
 * (prepared statements, no placeholder rewriting), so the only async step is the hooks.
 *
 * @example
 * ```ts
 * const db = SqliteDatabase.open('./data/orders.db');
 * const store = await SqliteEventStore.create(db, { registry: orderEvents });
 * store.onAppend(outboxAppendHook(outbox)); // outbox rows commit with the events
 * await store.append('order-1', events, { expectedVersion: 'no_stream', aggregateType: 'Order' });
 * ```
 */
export class SqliteEventStore implements EventStore<SqlTransaction> {
  private readonly hooks: AppendHookList<SqlTransaction>;
  private readonly clock: Clock;
  private readonly registry: EventRegistry | undefined;
  private readonly versionStmt: BetterSqlite3.Statement<[string], number | undefined>;
  private readonly insertStmt: BetterSqlite3.Statement<unknown[]>;

  private constructor(
    readonly db: SqliteDatabase,
    options: EventStoreOptions,
  ) {
    this.hooks = new AppendHookList(options.hooks);
    this.clock = options.clock ?? systemClock;
    this.registry = options.registry;
    this.versionStmt = db.raw
      .prepare<[string], number>('SELECT max(version) FROM trellis_events WHERE stream_id = ?')
      .pluck();
    this.insertStmt = db.raw.prepare(
      `INSERT INTO trellis_events (stream_id, version, id, aggregate_type, event_type, schema_version, payload, metadata, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /** Creates the tables if needed (idempotent) and returns a store over `db`. */
  static async create(db: SqliteDatabase, options: EventStoreOptions = {}): Promise<SqliteEventStore> {
    await migrateEventTables(db);
    return new SqliteEventStore(db, options);
  }

  append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    let input: PreparedAppend;
    try {
      input = prepareAppend(streamId, events, options, { clock: this.clock, registry: this.registry });
    } catch (err) {
      return Promise.reject(err);
    }
    const { tx } = options;
    if (tx) return this.appendIn(tx, input, true);
    return this.db.transaction((own) => this.appendIn(own, input, false));
  }

  async getEvents(aggregateId: string, fromVersion = 0, options: ReadOptions = {}): Promise<DomainEvent[]> {
    checkCount(fromVersion, 'fromVersion');
    const sql = `SELECT ${COLUMNS} FROM trellis_events WHERE stream_id = $1 AND version > $2 ORDER BY version`;
    const rows = await (options.tx ?? this.db).query<EventRow>(sql, [aggregateId, fromVersion]);
    return rows.map((r) => this.decode(r));
  }

  async streamVersion(streamId: string, options: ReadOptions = {}): Promise<number> {
    const sql = 'SELECT coalesce(max(version), 0) AS v FROM trellis_events WHERE stream_id = $1';
    const [row] = await (options.tx ?? this.db).query<{ v: number }>(sql, [streamId]);
    return row?.v ?? 0;
  }

  async readAll(fromPosition = 0, limit = 1000, options: ReadOptions = {}): Promise<DomainEvent[]> {
    checkCount(fromPosition, 'fromPosition');
    checkCount(limit, 'limit');
    const sql = `SELECT ${COLUMNS} FROM trellis_events WHERE position > $1 ORDER BY position LIMIT $2`;
    const rows = await (options.tx ?? this.db).query<EventRow>(sql, [fromPosition, limit]);
    return rows.map((r) => this.decode(r));
  }

  async headPosition(options: ReadOptions = {}): Promise<number> {
    const sql = 'SELECT coalesce(max(position), 0) AS p FROM trellis_events';
    const [row] = await (options.tx ?? this.db).query<{ p: number }>(sql);
    return row?.p ?? 0;
  }

  onAppend(hook: AppendHook): () => void {
    return this.hooks.add(hook);
  }

  watch(listener: () => void): () => void {
    return this.hooks.watch(listener);
  }

  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /** Nothing to stop: the database belongs to the caller. */
  async close(): Promise<void> {}

  /**
   * Writes one append inside `tx`. Runs while holding the connection (we are inside a
   * transaction callback), so the raw synchronous statements are safe. `nested` means the
   * caller owns the transaction: wrap the append in a SAVEPOINT so a failure removes only it.
   */
  private async appendIn(tx: SqlTransaction, input: PreparedAppend, nested: boolean): Promise<AppendResult> {
    const raw = this.db.raw;
    const actual = this.versionStmt.get(input.streamId) ?? 0;
    if (!versionMatches(input.expectedVersion, actual)) {
      throw new ConcurrencyError(input.streamId, input.expectedVersion, actual);
    }
    if (input.events.length === 0) return { nextExpectedVersion: actual, lastPosition: 0, events: [] };
    if (nested) raw.exec('SAVEPOINT trellis_append');
    try {
      const stored = input.events.map((e, i) => {
        const version = actual + i + 1;
        const { lastInsertRowid } = this.insertStmt.run(
          input.streamId,
          version,
          e.id,
          input.aggregateType,
          e.eventType,
          e.schemaVersion,
          JSON.stringify(e.payload),
          JSON.stringify(e.metadata),
          e.timestamp.toISOString(),
        );
        return storedEvent(e, input.streamId, input.aggregateType, version, Number(lastInsertRowid));
      });
      if (this.hooks.size > 0) await this.hooks.run(tx, stored);
      if (nested) raw.exec('RELEASE trellis_append');
      tx.afterCommit(() => this.hooks.notify());
      return {
        nextExpectedVersion: actual + stored.length,
        lastPosition: stored.at(-1)?.position ?? 0,
        events: stored,
      };
    } catch (err) {
      if (nested && raw.inTransaction) raw.exec('ROLLBACK TO trellis_append; RELEASE trellis_append');
      throw mapConstraint(err, input, actual);
    }
  }

  private decode(row: EventRow): DomainEvent {
    const event = eventFromRow(row);
    return this.registry ? this.registry.upcast(event) : event;
  }
}

/** A unique (stream_id, version) violation is a lost race: report it as a ConcurrencyError. */
function mapConstraint(err: unknown, input: PreparedAppend, actual: number): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new ConcurrencyError(input.streamId, input.expectedVersion, actual, { cause: err });
  }
  return err;
}
