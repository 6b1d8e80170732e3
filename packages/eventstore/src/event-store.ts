import type { Clock, SqlTransaction } from '@trellis/core';
import type { DomainEvent, EventMetadata, ExpectedVersion, NewEvent } from './domain-event.js';
import type { EventRegistry } from './event-registry.js';

/**
 * The least a transaction must offer to the event store and its hooks. `SqlTransaction`
 * from `@trellis/core` satisfies it; the in-memory store has its own `MemoryTransaction`.
 */
export interface TransactionContext {
  /** Runs `fn` after the transaction commits (never on rollback). */
  afterCommit(fn: () => void): void;
}

/**
 * A **transactional append hook**: called inside the append's transaction, after the events
 * are written (ids, versions, positions assigned) and before the commit.
 *
 * This is where writes that must commit *together with* the events go: outbox rows for
 * publication (the messaging outbox plugs in here), inline projections, audit rows. The
 * contract:
 * - called once per transaction that appended, with every event it appended, in position
 *   order, hooks in registration order. Usually that is one `append` call's events (one
 *   stream, in version order); when PostgreSQL group-commits several appends in one
 *   transaction, the hook gets all of them at once (each append's events stay contiguous),
 *   so it can write them in one statement. Use `event.aggregateId` to tell streams apart;
 * - `tx` is the append's transaction (the caller's own `tx` if one was passed); write only
 *   through it. Anything non-transactional (waking a relay) belongs in `tx.afterCommit`;
 * - throwing rolls the append back (its events, and every hook's writes) and the append
 *   rejects with that error; nothing is published;
 * - a hook can run more than once for the same events when a batched (group-commit) append
 *   is retried after a rollback; only writes that committed count, so hooks must not keep
 *   side effects outside `tx`.
 *
 * @example
 * ```ts
 * store.onAppend(async (tx, events) => {
 *   for (const e of events) {
 *     await tx.execute('INSERT INTO my_outbox (id, type, body) VALUES ($1, $2, $3)',
 *       [e.id, e.eventType, JSON.stringify(e)]);
 *   }
 * });
 * ```
 */
export type AppendHook<Tx extends TransactionContext = SqlTransaction> = (
  tx: Tx,
  events: readonly DomainEvent[],
) => Promise<void> | void;

/** Options of {@link EventStore.append}. */
export interface AppendOptions<Tx extends TransactionContext = SqlTransaction> {
  /** Optimistic concurrency check; default `'any'`. */
  expectedVersion?: ExpectedVersion;
  /** Stored on every event of the append; default `'unknown'`. Aggregates set it for you. */
  aggregateType?: string;
  /** Default metadata for every event (each event's own metadata wins per key). */
  metadata?: EventMetadata;
  /**
   * Join an open transaction instead of starting one: the events (and every hook's writes)
   * commit or roll back with it. The append itself stays atomic: if it fails, none of its
   * writes remain in `tx`.
   */
  tx?: Tx;
}

/** What a successful append returns. */
export interface AppendResult {
  /** The stream's version after the append: pass it as the next `expectedVersion`. */
  nextExpectedVersion: number;
  /** Global position of the last appended event (0 if `events` was empty). */
  lastPosition: number;
  /** The events as stored. */
  events: DomainEvent[];
}

/** Options of reads. */
export interface ReadOptions<Tx extends TransactionContext = SqlTransaction> {
  /** Read inside this transaction (sees its uncommitted writes). */
  tx?: Tx;
}

/**
 * An event store: append-only streams with optimistic concurrency, and one global log in
 * commit order. Implemented by `InMemoryEventStore` here, `SqliteEventStore` in
 * `@trellis/sqlite` and `PostgresEventStore` in `@trellis/postgres`; all pass the same
 * conformance suite (`@trellis/eventstore/conformance`).
 */
export interface EventStore<Tx extends TransactionContext = SqlTransaction> {
  /**
   * Appends `events` to `streamId` atomically: all or none, with consecutive versions and
   * positions. Append hooks run in the same transaction.
   *
   * Throws `ConcurrencyError` when `expectedVersion` does not match (nothing written),
   * `ValidationError` for malformed input or a payload failing its registered schema, and
   * `UnknownEventTypeError` for a type the registry does not know (nothing written).
   */
  append(streamId: string, events: readonly NewEvent[], options?: AppendOptions<Tx>): Promise<AppendResult>;

  /** Events of one stream with `version > fromVersion`, in version order (the seed's name). */
  getEvents(aggregateId: string, fromVersion?: number, options?: ReadOptions<Tx>): Promise<DomainEvent[]>;

  /** The stream's current version; 0 when it does not exist. */
  streamVersion(streamId: string, options?: ReadOptions<Tx>): Promise<number>;

  /**
   * Up to `limit` events of the global log with `position > fromPosition`, in position
   * order. Never skips an event that commits later: see the backend's notes on ordering.
   */
  readAll(fromPosition?: number, limit?: number, options?: ReadOptions<Tx>): Promise<DomainEvent[]>;

  /** Position of the last committed event (0 when the log is empty). */
  headPosition(options?: ReadOptions<Tx>): Promise<number>;

  /**
   * Registers a transactional append hook (see {@link AppendHook}); returns a function that
   * unregisters it.
   */
  onAppend(hook: AppendHook<Tx>): () => void;

  /**
   * Calls `listener` after appends commit, from this process and (where the backend can,
   * e.g. PostgreSQL LISTEN/NOTIFY) from others. A hint to read more, not a delivery: read
   * with `readAll`. Returns a function that stops listening.
   */
  watch(listener: () => void): () => void;

  /** Runs `fn` in one transaction of the store's backend (the unit of work). */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;

  /** Stops background work (listeners, writer queues); does not close a shared database. */
  close(): Promise<void>;
}

/** Options every event store backend accepts. */
export interface EventStoreOptions<Tx extends TransactionContext = SqlTransaction> {
  /** Payload schemas and upcasters; without it any type and JSON payload is accepted as is. */
  registry?: EventRegistry;
  /** Source of event timestamps and id times (default the system clock). */
  clock?: Clock;
  /** Append hooks registered from the start (see {@link AppendHook}). */
  hooks?: readonly AppendHook<Tx>[];
}
