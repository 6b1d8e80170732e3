import { type Clock, type SqlTransaction, systemClock } from '@trellis/core';
import {
  type AppendHook,
  AppendHookList,
  type AppendOptions,
  type AppendResult,
  checkCount,
  type DomainEvent,
  type EventRegistry,
  type EventStore,
  type EventStoreOptions,
  type NewEvent,
  type PreparedAppend,
  prepareAppend,
  type ReadOptions,
} from '@trellis/eventstore';
import type { PostgresDatabase } from './database.js';
import { mapAppendError, runAppendBatch, toResult } from './event-append.js';
import { EVENTS_CHANNEL, eventFromPgRow, migrateEventTables, type PgEventRow } from './event-schema.js';
import { GroupCommitWriter } from './group-commit-writer.js';
import { NotifyListener } from './notify-listener.js';

const COLUMNS =
  'position, stream_id, version, id, aggregate_type, event_type, schema_version, payload, metadata, created_at';

/** Options of {@link PostgresEventStore}. */
export interface PostgresEventStoreOptions extends EventStoreOptions {
  /**
   * Batch concurrent appends made without a `tx` into one transaction (default true). Each
   * append still succeeds or fails on its own.
   */
  groupCommit?: boolean;
  /** Most appends per group-commit transaction (default 256). */
  maxBatchSize?: number;
  /** Group-commit transactions in flight at once (default 1; see `GroupCommitWriter`). */
  maxInFlight?: number;
  /** `pg_notify` on commit so other processes' readers wake at once (default true). */
  notify?: boolean;
}

/**
 * The event store on PostgreSQL. Gap-free global order comes from one advisory lock held by
 * each appending transaction until it commits (see `event-schema.ts` for why that is
 * correct); concurrent appends are group-committed so that lock costs little throughput.
 * Readers are plain `position > $1` queries and never skip a late committer.
 *
 * @example
 * ```ts
 * const db = PostgresDatabase.connect(process.env.DATABASE_URL!);
 * const store = await PostgresEventStore.create(db, { registry: orderEvents });
 * await store.append('order-1', events, { expectedVersion: 'no_stream', aggregateType: 'Order' });
 * ```
 */
export class PostgresEventStore implements EventStore<SqlTransaction> {
  private readonly hooks: AppendHookList<SqlTransaction>;
  private readonly clock: Clock;
  private readonly registry: EventRegistry | undefined;
  private readonly writer: GroupCommitWriter | undefined;
  private readonly listener: NotifyListener | undefined;
  private readonly notify: boolean;

  private constructor(
    readonly db: PostgresDatabase,
    options: PostgresEventStoreOptions,
  ) {
    this.hooks = new AppendHookList(options.hooks);
    this.clock = options.clock ?? systemClock;
    this.registry = options.registry;
    this.notify = options.notify ?? true;
    if (options.groupCommit ?? true) {
      this.writer = new GroupCommitWriter(db, this.hooks, {
        maxBatch: options.maxBatchSize ?? 256,
        maxInFlight: options.maxInFlight ?? 1,
        notify: this.notify,
      });
    }
    // Readers in this process wake when *any* process commits an append; on the first LISTEN
    // they have just read, so only a LISTEN restored after a lost connection wakes them.
    if (this.notify) {
      const wake = () => this.hooks.notify();
      this.listener = new NotifyListener(db.pool, EVENTS_CHANNEL, wake, this.clock, 'after-loss');
    }
  }

  /** Creates the tables and the append function if needed (idempotent) and returns a store. */
  static async create(
    db: PostgresDatabase,
    options: PostgresEventStoreOptions = {},
  ): Promise<PostgresEventStore> {
    await migrateEventTables(db);
    return new PostgresEventStore(db, options);
  }

  append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    let input: PreparedAppend;
    try {
      input = prepareAppend(streamId, events, options, { clock: this.clock, registry: this.registry });
    } catch (err) {
      return Promise.reject(err);
    }
    if (options.tx) return this.appendIn(options.tx, input);
    if (this.writer) return this.writer.submit(input);
    return this.db.transaction((tx) => this.appendIn(tx, input));
  }

  async getEvents(aggregateId: string, fromVersion = 0, options: ReadOptions = {}): Promise<DomainEvent[]> {
    checkCount(fromVersion, 'fromVersion');
    const sql = `SELECT ${COLUMNS} FROM trellis_events WHERE stream_id = $1 AND version > $2 ORDER BY version`;
    const rows = await (options.tx ?? this.db).query<PgEventRow>(sql, [aggregateId, fromVersion]);
    return rows.map((r) => this.decode(r));
  }

  async streamVersion(streamId: string, options: ReadOptions = {}): Promise<number> {
    const sql = 'SELECT coalesce(max(version), 0) AS v FROM trellis_events WHERE stream_id = $1';
    const [row] = await (options.tx ?? this.db).query<{ v: number | string }>(sql, [streamId]);
    return Number(row?.v ?? 0);
  }

  async readAll(fromPosition = 0, limit = 1000, options: ReadOptions = {}): Promise<DomainEvent[]> {
    checkCount(fromPosition, 'fromPosition');
    checkCount(limit, 'limit');
    const sql = `SELECT ${COLUMNS} FROM trellis_events WHERE position > $1 ORDER BY position LIMIT $2`;
    const rows = await (options.tx ?? this.db).query<PgEventRow>(sql, [fromPosition, limit]);
    return rows.map((r) => this.decode(r));
  }

  async headPosition(options: ReadOptions = {}): Promise<number> {
    // Positions are assigned in commit order, so the largest visible one is the head.
    const [row] = await (options.tx ?? this.db).query<{ position: number | string }>(
      'SELECT coalesce(max(position), 0) AS position FROM trellis_events',
    );
    return Number(row?.position ?? 0);
  }

  /** Group-commit counters: appends written and transactions used (undefined when off). */
  get groupCommitStats(): { appends: number; batches: number; largestBatch: number } | undefined {
    const stats = this.writer?.stats;
    return stats && { appends: stats.writes, batches: stats.flushes, largestBatch: stats.largest };
  }

  onAppend(hook: AppendHook): () => void {
    return this.hooks.add(hook);
  }

  /** Wakes `listener` after commits in this process and, via LISTEN/NOTIFY, in others. */
  watch(listener: () => void): () => void {
    const off = this.hooks.watch(listener);
    void this.listener?.start();
    return () => {
      off();
      if (this.hooks.watcherCount === 0) void this.listener?.stop();
    };
  }

  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /** Waits for queued appends and stops listening; the database stays open. */
  async close(): Promise<void> {
    await this.writer?.idle();
    await this.listener?.stop();
  }

  /**
   * One append inside `tx`. With hooks it runs under a SAVEPOINT, so a failing hook removes
   * this append (and the hooks' writes) but leaves the caller's transaction usable.
   */
  private async appendIn(tx: SqlTransaction, input: PreparedAppend): Promise<AppendResult> {
    const savepoint = this.hooks.size > 0;
    if (savepoint) await tx.execute('SAVEPOINT trellis_append');
    try {
      const [outcome] = await runAppendBatch(tx, [input], this.notify);
      const result = toResult(input, outcome);
      if (result.events.length > 0) {
        await this.hooks.run(tx, result.events);
        tx.afterCommit(() => this.hooks.notify());
      }
      if (savepoint) await tx.execute('RELEASE SAVEPOINT trellis_append');
      return result;
    } catch (err) {
      if (savepoint) await tx.execute('ROLLBACK TO SAVEPOINT trellis_append').catch(() => {});
      throw mapAppendError(err, input);
    }
  }

  private decode(row: PgEventRow): DomainEvent {
    const event = eventFromPgRow(row);
    return this.registry ? this.registry.upcast(event) : event;
  }
}
