/**
 * A service's storage backend: its own database (a SQLite file in embedded mode, a PostgreSQL
 * database in distributed mode) and the Trellis stores built on that one unit of work — event
 * store, snapshots, sagas, outbox, inbox, dead letters and the HTTP idempotency store. The
 * service code only sees the contracts, so the same service runs in both modes.
 */
import { join } from 'node:path';
import type { SqlDatabase } from '@trellis/core';
import type { EventStore, EventStoreOptions, SnapshotStore } from '@trellis/eventstore';
import type {
  Bus,
  DeadLetterStore,
  Inbox,
  Outbox,
  OutboxRelay,
  OutboxRelayOptions,
} from '@trellis/messaging';
import type { SagaStore } from '@trellis/saga';
import { SqlIdempotencyStore } from '@trellis/service';

/** The transactional outbox of a backend plus its relay starter. */
export interface OutboxHandle {
  outbox: Outbox;
  /** Starts publishing committed rows to `bus`. */
  startRelay(
    bus: Pick<Bus, 'publishBatch'>,
    options?: Omit<OutboxRelayOptions, 'source' | 'bus'>,
  ): OutboxRelay;
}

/** Where a backend's database is. */
export type BackendLocation =
  | { kind: 'sqlite'; file: string }
  | {
      kind: 'postgres';
      url: string;
      poolSize?: number;
      applicationName?: string;
      /** Client-side statement limit (ms); unset or 0: none. Timeouts answer 503 (DB_TIMEOUT). */
      queryTimeoutMs?: number;
      /** Limit on getting a connection (ms); unset or 0: none. */
      connectTimeoutMs?: number;
    };

/** One service's storage. Every store shares {@link Backend.db}, so they commit together. */
export interface Backend {
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: SqlDatabase;
  readonly location: BackendLocation;
  eventStore(options?: EventStoreOptions): Promise<EventStore>;
  snapshotStore(): Promise<SnapshotStore>;
  sagaStore(): Promise<SagaStore>;
  outbox(): Promise<OutboxHandle>;
  inbox(): Promise<Inbox>;
  deadLetters(): Promise<DeadLetterStore>;
  idempotencyStore(): Promise<SqlIdempotencyStore>;
  /**
   * Whether the database answers, for readiness probes. On SQLite it bypasses the queue of
   * transactions (a busy service is still ready); on PostgreSQL it runs `SELECT 1`.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The embedded database file of `service` under `dataDir`. */
export function sqliteFileOf(dataDir: string, service: string): string {
  return join(dataDir, `${service}.db`);
}

/**
 * Opens a backend. SQLite files (and their directory) are created when missing; a PostgreSQL
 * database must exist (the launcher creates one per service). Only the backend in use is
 * loaded, which keeps service start-up short.
 *
 * @example
 * ```ts
 * const backend = await openBackend({ kind: 'sqlite', file: './data/orders.db' });
 * const events = await backend.eventStore({ registry: orderEvents });
 * ```
 */
export async function openBackend(location: BackendLocation): Promise<Backend> {
  return location.kind === 'sqlite' ? sqliteBackend(location) : postgresBackend(location);
}

async function sqliteBackend(location: Extract<BackendLocation, { kind: 'sqlite' }>): Promise<Backend> {
  const {
    SqliteDatabase,
    SqliteDeadLetterStore,
    SqliteEventStore,
    SqliteInbox,
    SqliteOutbox,
    SqliteSagaStore,
    SqliteSnapshotStore,
  } = await import('@trellis/sqlite');
  const db = SqliteDatabase.open(location.file);
  const idempotency = once(async () => {
    const store = new SqlIdempotencyStore(db);
    await store.migrate();
    return store;
  });
  return {
    dialect: 'sqlite',
    db,
    location,
    eventStore: (options) => SqliteEventStore.create(db, options),
    snapshotStore: () => SqliteSnapshotStore.create(db),
    sagaStore: () => SqliteSagaStore.create(db),
    outbox: once(async () => {
      const outbox = await SqliteOutbox.create(db);
      return { outbox, startRelay: (bus, options) => outbox.startRelay(bus, options) };
    }),
    inbox: once(() => SqliteInbox.create(db)),
    deadLetters: once(() => SqliteDeadLetterStore.create(db)),
    idempotencyStore: idempotency,
    ping: async () => {
      db.raw.prepare('SELECT 1').get();
    },
    close: () => db.close(),
  };
}

async function postgresBackend(location: Extract<BackendLocation, { kind: 'postgres' }>): Promise<Backend> {
  const {
    PostgresDatabase,
    PostgresDeadLetterStore,
    PostgresEventStore,
    PostgresInbox,
    PostgresOutbox,
    PostgresSagaStore,
    PostgresSnapshotStore,
  } = await import('@trellis/postgres');
  const db = PostgresDatabase.connect(location.url, {
    max: location.poolSize ?? 10,
    applicationName: location.applicationName ?? 'trellis-shop',
    ...(location.queryTimeoutMs ? { queryTimeoutMillis: location.queryTimeoutMs } : {}),
    ...(location.connectTimeoutMs ? { connectionTimeoutMillis: location.connectTimeoutMs } : {}),
    // Notices a dead peer on idle connections too (the LISTEN connection, an idle pool).
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  const idempotency = once(async () => {
    const store = new SqlIdempotencyStore(db);
    // Replicas starting together can collide on CREATE TABLE IF NOT EXISTS; the loser retries
    // and finds the table.
    await store.migrate().catch(() => store.migrate());
    return store;
  });
  return {
    dialect: 'postgres',
    db,
    location,
    eventStore: (options) => PostgresEventStore.create(db, options),
    snapshotStore: () => PostgresSnapshotStore.create(db),
    sagaStore: () => PostgresSagaStore.create(db),
    outbox: once(async () => {
      const outbox = await PostgresOutbox.create(db);
      return { outbox, startRelay: (bus, options) => outbox.startRelay(bus, options) };
    }),
    inbox: once(() => PostgresInbox.create(db)),
    deadLetters: once(() => PostgresDeadLetterStore.create(db)),
    idempotencyStore: idempotency,
    ping: async () => {
      await db.query('SELECT 1');
    },
    close: () => db.close(),
  };
}

/** Memoises an async factory, so every caller shares one store. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= fn();
    return value;
  };
}
