import { type Clock, systemClock, type TimerHandle } from '@trellis/core';
import {
  type Bus,
  BusClosedError,
  type BusHealth,
  type BusObserver,
  type Consumer,
  type DeadLetterStore,
  type HeaderProvider,
  type MessageHandler,
  notify,
  type OutgoingMessage,
  type PreparedMessage,
  type PublishedMessage,
  type PublishOptions,
  prepareMessage,
  published,
  resolveConsumer,
  type SubscribeOptions,
  type Subscription,
  startLagReporter,
  type TopicSchemas,
  topicMatches,
} from '@trellis/messaging';
import type { SqliteDatabase, SqliteDatabaseOptions } from './database.js';
import { SqliteDeadLetterStore } from './dead-letter-store.js';
import { GroupCommit } from './group-commit.js';
import { migrateBus } from './messaging-schema.js';
import { acquire, peersOf, release } from './sqlite-bus-connections.js';
import { SqliteBusMember } from './sqlite-bus-member.js';
import {
  BusStatements,
  ConsumerRegistry,
  insertMessages,
  pruneMessages,
  registerConsumer,
} from './sqlite-bus-store.js';

/** Options of {@link SqliteBus.open}. */
export interface SqliteBusOptions {
  clock?: Clock;
  schemas?: TopicSchemas;
  observer?: BusObserver;
  headers?: HeaderProvider;
  /** Default: the bus's own dead-letter table (in the bus file). */
  deadLetters?: DeadLetterStore;
  /** How often to check whether another process committed to the bus file (default 20 ms). */
  pollIntervalMs?: number;
  /** How often every subscription looks for work regardless (expired leases; default 250 ms). */
  sweepIntervalMs?: number;
  /** Fully delivered messages are kept this long for dedupe and `from: 'all'` (default 24 h). */
  retentionMs?: number;
  /** How often `observer.lag` is called per subscription (default 5000 ms; 0 disables). */
  lagIntervalMs?: number;
  /** Passed to {@link SqliteDatabase.open} when the bus opens the file itself. */
  database?: SqliteDatabaseOptions;
}

/**
 * The durable embedded bus on SQLite: the default transport for one machine. Messages, consumer
 * groups, deliveries and dead letters live in one WAL-mode file that any number of processes
 * may share; each process polls `PRAGMA data_version` (a cheap counter that changes when
 * another connection commits) to notice their work within `pollIntervalMs`, and wakes its own
 * consumers at once after its own commits.
 *
 * Consumer groups are durable rows; every published message gets a delivery row per matching
 * group. Members lease deliveries with a visibility timeout (extended while the handler runs),
 * so a crashed process's messages are redelivered; a delivery is only taken when it is the
 * earliest pending one of its key, which gives per-key order within a group while different
 * keys run concurrently.
 *
 * @example
 * ```ts
 * const bus = await SqliteBus.open('./data/bus.db');
 * await bus.subscribe('order.*', handle, { group: 'billing' });
 * await bus.publish('order.created', { orderId }, { key: orderId });
 * ```
 */
export class SqliteBus implements Bus {
  readonly transport = 'sqlite';
  /** The bus's own dead-letter store (its table in the bus file). */
  readonly deadLetters: SqliteDeadLetterStore;
  private readonly clock: Clock;
  private readonly registry = new ConsumerRegistry();
  private readonly members = new Set<SqliteBusMember>();
  private readonly stopLag = new Map<SqliteBusMember, () => void>();
  private readonly timers: TimerHandle[] = [];
  private dataVersion = -1;
  private closed = false;
  /** Keeps the process alive while subscriptions run (the clock's timers are unref'd). */
  private keepAlive: NodeJS.Timeout | undefined;

  /** Concurrent publishes share one transaction (see {@link GroupCommit}). */
  private readonly commits = new GroupCommit<PreparedMessage>((messages) =>
    this.db.transaction(async (tx) => {
      insertMessages(BusStatements.of(this.db), messages, this.registry);
      // Buses sharing this connection do not see its commits in `data_version`: wake them all.
      tx.afterCommit(() => {
        const topics = [...new Set(messages.map((p) => p.topic))];
        for (const peer of peersOf(this.db)) peer.wakeFor(topics);
      });
    }),
  );

  private constructor(
    readonly db: SqliteDatabase,
    private readonly ownsDb: boolean,
    private readonly options: SqliteBusOptions,
    store: SqliteDeadLetterStore,
  ) {
    this.clock = options.clock ?? systemClock;
    this.deadLetters = store;
  }

  /**
   * Opens (creating if needed) the bus in `file`, or on an open database. Buses opened on the
   * same file in one process share one connection: two connections of one thread could
   * otherwise wait on each other's write lock (SQLite's busy wait blocks the thread).
   */
  static async open(file: string | SqliteDatabase, options: SqliteBusOptions = {}): Promise<SqliteBus> {
    const ownsDb = typeof file === 'string';
    const db = typeof file === 'string' ? acquire(file, options.database) : file;
    await migrateBus(db);
    const store = await SqliteDeadLetterStore.create(db, {
      ...(options.clock ? { clock: options.clock } : {}),
      onReplayed: () => {
        for (const peer of peersOf(db)) peer.wakeAll();
      },
    });
    const bus = new SqliteBus(db, ownsDb, options, store);
    peersOf(db).add(bus);
    bus.startTimers();
    return bus;
  }

  async publish<P>(topic: string, payload: P, options: PublishOptions = {}): Promise<PublishedMessage> {
    const [one] = await this.publishBatch([{ topic, payload, ...options }]);
    return one as PublishedMessage;
  }

  async publishBatch(messages: readonly OutgoingMessage[]): Promise<PublishedMessage[]> {
    if (this.closed) throw new BusClosedError();
    const ctx = { clock: this.clock, schemas: this.options.schemas, headers: this.options.headers };
    const prepared = messages.map((m) => prepareMessage(m, ctx));
    if (prepared.length === 0) return [];
    await this.commits.submit(prepared);
    for (const p of prepared)
      notify(this.options.observer, 'published', { transport: this.transport, topic: p.topic });
    return prepared.map(published);
  }

  async subscribe<P = unknown>(
    pattern: string,
    handler: MessageHandler<P>,
    options: SubscribeOptions<P>,
  ): Promise<Subscription> {
    if (this.closed) throw new BusClosedError();
    const consumer = resolveConsumer(pattern, handler, options, {
      transport: this.transport,
      deadLetters: this.deadLetters,
      observer: this.options.observer,
      clock: this.clock,
      schemas: this.options.schemas,
    }) as Consumer;
    const id = await this.db.transaction((tx) =>
      registerConsumer(tx, consumer.group, pattern, consumer.from, this.clock.now()),
    );
    const member = new SqliteBusMember(consumer, id, this.db, this.clock, this.deadLetters);
    this.members.add(member);
    this.keepAlive ??= setInterval(() => {}, 1 << 30);
    this.stopLag.set(
      member,
      startLagReporter({
        observer: this.options.observer,
        intervalMs: this.options.lagIntervalMs ?? 5000,
        clock: this.clock,
        transport: this.transport,
        group: consumer.group,
        pattern,
        lag: () => member.lag(),
      }),
    );
    member.wake();
    return {
      group: consumer.group,
      pattern,
      lag: () => member.lag(),
      close: () => this.closeMember(member),
    };
  }

  async health(): Promise<BusHealth> {
    if (this.closed) return { ok: false, transport: this.transport, detail: 'closed' };
    try {
      await this.db.query('SELECT 1 FROM trellis_bus_consumers LIMIT 1');
      return { ok: true, transport: this.transport };
    } catch (e) {
      return { ok: false, transport: this.transport, detail: (e as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    peersOf(this.db).delete(this);
    for (const t of this.timers) this.clock.clearTimeout(t);
    await Promise.all([...this.members].map((m) => this.closeMember(m)));
    if (this.ownsDb) await release(this.db);
  }

  /**
   * Simulates this process dying (for tests): handlers still running are abandoned and nothing
   * more is acknowledged or written; their deliveries are redelivered once their leases expire.
   */
  crash(): void {
    this.closed = true;
    peersOf(this.db).delete(this);
    for (const t of this.timers) this.clock.clearTimeout(t);
    for (const m of this.members) {
      m.crash();
      this.stopLag.get(m)?.();
    }
    this.members.clear();
    this.releaseKeepAlive();
    if (this.ownsDb) void release(this.db);
  }

  private async closeMember(member: SqliteBusMember): Promise<void> {
    if (!this.members.delete(member)) return;
    if (this.members.size === 0) this.releaseKeepAlive();
    this.stopLag.get(member)?.();
    this.stopLag.delete(member);
    await member.close();
  }

  private releaseKeepAlive(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  /** @internal */
  wakeFor(topics: readonly string[]): void {
    for (const m of this.members) {
      if (topics.some((t) => topicMatches(m.consumer.pattern, t))) m.wake();
    }
  }

  /** @internal */
  wakeAll(): void {
    for (const m of this.members) m.wake();
  }

  private startTimers(): void {
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const tick = async () => {
        if (this.closed) return;
        try {
          await fn();
        } catch {
          // A busy or briefly failing database is retried on the next tick.
        }
        if (!this.closed) this.timers[slot] = this.clock.setTimeout(tick, ms);
      };
      const slot = this.timers.length;
      this.timers.push(this.clock.setTimeout(tick, ms));
    };
    every(this.options.pollIntervalMs ?? 20, async () => {
      if (this.members.size === 0) return;
      const version = this.db.raw.pragma('data_version', { simple: true }) as number;
      if (version !== this.dataVersion) {
        this.dataVersion = version;
        this.wakeAll();
      }
    });
    every(this.options.sweepIntervalMs ?? 250, () => this.wakeAll());
    every(60_000, async () => {
      await this.db.transaction((tx) =>
        pruneMessages(tx, this.clock.now() - (this.options.retentionMs ?? 86_400_000)),
      );
    });
  }
}
