import { AsyncLocalStorage } from 'node:async_hooks';
import { type Clock, systemClock } from '@trellis/core';
import { AppendHookList } from './append-hooks.js';
import { checkCount, prepareAppend, storedEvent, versionMatches } from './append-input.js';
import type { DomainEvent, NewEvent } from './domain-event.js';
import { ConcurrencyError } from './errors.js';
import type { EventRegistry } from './event-registry.js';
import type {
  AppendHook,
  AppendOptions,
  AppendResult,
  EventStore,
  EventStoreOptions,
  ReadOptions,
} from './event-store.js';
import { MemoryTransaction } from './memory-transaction.js';

/** The data behind one or more {@link InMemoryEventStore}s (what a database file is to SQLite). */
export class InMemoryStorage {
  /** @internal */ readonly log: DomainEvent[] = [];
  /** @internal */ readonly streams = new Map<string, DomainEvent[]>();
  /** @internal */ tail: Promise<unknown> = Promise.resolve();
  /** @internal */ readonly inside = new AsyncLocalStorage<boolean>();
  private readonly watchers = new AppendHookList<MemoryTransaction>();

  /** @internal */
  watch(listener: () => void): () => void {
    return this.watchers.watch(listener);
  }

  /** @internal */
  notify(): void {
    this.watchers.notify();
  }
}

/**
 * An event store in memory: the reference implementation of the contract, for unit tests
 * and examples. Transactions are serialised; writes are staged and applied at commit.
 *
 * @example
 * ```ts
 * const store = new InMemoryEventStore();
 * await store.append('order-1', [{ eventType: 'ItemAdded', payload: { productId: 'p1', quantity: 2 } }], {
 *   expectedVersion: 'no_stream', aggregateType: 'Order',
 * });
 * const events = await store.getEvents('order-1');
 * ```
 */
export class InMemoryEventStore implements EventStore<MemoryTransaction> {
  /** The shared log; pass it to another store to get a second "process" over the same data. */
  readonly storage: InMemoryStorage;
  private readonly hooks: AppendHookList<MemoryTransaction>;
  private readonly clock: Clock;
  private readonly registry: EventRegistry | undefined;

  constructor(options: EventStoreOptions<MemoryTransaction> & { storage?: InMemoryStorage } = {}) {
    this.clock = options.clock ?? systemClock;
    this.registry = options.registry;
    this.hooks = new AppendHookList(options.hooks);
    this.storage = options.storage ?? new InMemoryStorage();
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions<MemoryTransaction> = {},
  ): Promise<AppendResult> {
    const input = prepareAppend(streamId, events, options, { clock: this.clock, registry: this.registry });
    const run = async (tx: MemoryTransaction): Promise<AppendResult> => {
      tx.assertOpen();
      const actual = this.versionIn(tx, input.streamId);
      if (!versionMatches(input.expectedVersion, actual)) {
        throw new ConcurrencyError(input.streamId, input.expectedVersion, actual);
      }
      const mark = tx.mark();
      const base = this.storage.log.length + tx.staged.length;
      const stored = input.events.map((e, i) =>
        storedEvent(e, input.streamId, input.aggregateType, actual + i + 1, base + i + 1),
      );
      tx.staged.push(...stored);
      try {
        if (stored.length > 0) await this.hooks.run(tx, stored);
      } catch (err) {
        tx.rollbackTo(mark);
        throw err;
      }
      if (stored.length > 0) tx.afterCommit(() => this.storage.notify());
      return {
        nextExpectedVersion: actual + stored.length,
        lastPosition: stored.at(-1)?.position ?? 0,
        events: stored.map((e) => this.decode(e)),
      };
    };
    return options.tx ? run(options.tx) : this.transaction(run);
  }

  async getEvents(
    aggregateId: string,
    fromVersion = 0,
    options: ReadOptions<MemoryTransaction> = {},
  ): Promise<DomainEvent[]> {
    checkCount(fromVersion, 'fromVersion');
    const committed = this.storage.streams.get(aggregateId) ?? [];
    const staged = options.tx?.staged.filter((e) => e.aggregateId === aggregateId) ?? [];
    return [...committed, ...staged].filter((e) => e.version > fromVersion).map((e) => this.decode(e));
  }

  async streamVersion(streamId: string, options: ReadOptions<MemoryTransaction> = {}): Promise<number> {
    return options.tx
      ? this.versionIn(options.tx, streamId)
      : (this.storage.streams.get(streamId)?.length ?? 0);
  }

  async readAll(
    fromPosition = 0,
    limit = 1000,
    options: ReadOptions<MemoryTransaction> = {},
  ): Promise<DomainEvent[]> {
    checkCount(fromPosition, 'fromPosition');
    checkCount(limit, 'limit');
    const all = options.tx ? [...this.storage.log, ...options.tx.staged] : this.storage.log;
    // Positions are dense and 1-based, so position p lives at index p - 1.
    return all.slice(fromPosition, fromPosition + limit).map((e) => this.decode(e));
  }

  async headPosition(options: ReadOptions<MemoryTransaction> = {}): Promise<number> {
    return this.storage.log.length + (options.tx?.staged.length ?? 0);
  }

  onAppend(hook: AppendHook<MemoryTransaction>): () => void {
    return this.hooks.add(hook);
  }

  watch(listener: () => void): () => void {
    return this.storage.watch(listener);
  }

  /** Runs `fn` in a transaction; transactions are serialised, writes applied at commit. */
  transaction<T>(fn: (tx: MemoryTransaction) => Promise<T>): Promise<T> {
    if (this.storage.inside.getStore()) {
      // Waiting for our own transaction to finish would hang forever: fail loudly instead.
      return Promise.reject(
        new Error('InMemoryEventStore used directly inside its own transaction; pass `tx`'),
      );
    }
    const run = async () => {
      const tx = new MemoryTransaction();
      let value: T;
      try {
        value = await this.storage.inside.run(true, () => fn(tx));
      } catch (err) {
        tx.abort();
        throw err;
      }
      const callbacks = tx.commit((events) => this.apply(events));
      for (const cb of callbacks) cb();
      return value;
    };
    const result = this.storage.tail.then(run, run);
    this.storage.tail = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.storage.tail;
  }

  private apply(events: DomainEvent[]): void {
    for (const e of events) {
      this.storage.log.push(e);
      const stream = this.storage.streams.get(e.aggregateId);
      if (stream) stream.push(e);
      else this.storage.streams.set(e.aggregateId, [e]);
    }
  }

  private versionIn(tx: MemoryTransaction, streamId: string): number {
    let v = this.storage.streams.get(streamId)?.length ?? 0;
    for (const e of tx.staged) if (e.aggregateId === streamId) v = e.version;
    return v;
  }

  private decode(e: DomainEvent): DomainEvent {
    // Copies, so a caller mutating a returned event cannot rewrite history.
    const copy = structuredClone(e);
    return this.registry ? this.registry.upcast(copy) : copy;
  }
}
