import { type Clock, systemClock } from '@trellis/core';
import type { DomainEvent, EventLike, EventMetadata, NewEvent } from './domain-event.js';
import { isConcurrencyError } from './errors.js';
import type { AppendResult, EventStore, TransactionContext } from './event-store.js';
import type { SnapshotStore } from './snapshot-store.js';

/** The payload type of event `K` in the union `E`. */
export type PayloadOf<E extends EventLike, K extends E['eventType']> = Extract<
  E,
  { eventType: K }
>['payload'];

/** A concrete aggregate class: what the static helpers (`fromEvents`, `load`) need. */
export interface AggregateClass<A extends Aggregate> {
  new (id?: string): A;
  /** Stored as `aggregateType` on every event; defaults to the class name. */
  readonly aggregateType?: string;
  /** Take a snapshot whenever a save or load crosses a multiple of this many events. */
  readonly snapshotEvery?: number;
  /** Version of the state shape stored in snapshots; raise it when the state changes shape. */
  readonly snapshotVersion?: number;
}

/** Options for loading an aggregate. */
export interface LoadOptions<Tx extends TransactionContext> {
  /** Read snapshots from (and write refreshed ones to) this store. */
  snapshots?: SnapshotStore<Tx>;
  /** Overrides the class's `snapshotEvery` for this call. */
  snapshotEvery?: number;
  /** Time source for snapshot timestamps (default the system clock). */
  clock?: Clock;
  /** Load inside an open transaction. */
  tx?: Tx;
}

/** Options for saving an aggregate. */
export interface SaveOptions<Tx extends TransactionContext> extends LoadOptions<Tx> {
  /** Metadata for every new event (correlation id, traceparent, user id). */
  metadata?: EventMetadata;
}

/**
 * Base class for event-sourced aggregates, shaped like the seed's `OrderAggregate`: state is
 * only ever changed by `when(event)`, commands validate and `raise` events, and
 * `getUncommittedEvents()` returns what a save will append.
 *
 * @example
 * ```ts
 * type CounterEvent = EventLike<'Incremented', { by: number }>;
 * class Counter extends Aggregate<CounterEvent> {
 *   static readonly aggregateType = 'Counter';
 *   state = { total: 0 };
 *   increment(by: number) {
 *     if (by <= 0) throw new ValidationError('by must be positive');
 *     this.raise('Incremented', { by });
 *   }
 *   protected when(e: CounterEvent) { this.state.total += e.payload.by; }
 * }
 * const counter = await Counter.load(store, 'counter-1');
 * counter.increment(2);
 * await counter.save(store);
 * ```
 */
export abstract class Aggregate<TEvent extends EventLike = EventLike> {
  /** The aggregate's current state; subclasses initialise it. */
  abstract state: unknown;
  /** The stream id. */
  id: string;
  /** Version of the last event applied, stored or raised. */
  version = 0;
  /** Version as last loaded or saved: the expected version of the next save. */
  persistedVersion = 0;
  private uncommitted: NewEvent[] = [];

  constructor(id = '') {
    this.id = id;
  }

  /** Evolves `state` by one event. No validation, no side effects: it also replays history. */
  protected abstract when(event: TEvent): void;

  /** Applies a new event and queues it for the next save. Commands call this after validating. */
  protected raise<K extends TEvent['eventType']>(
    eventType: K,
    payload: PayloadOf<TEvent, K>,
    metadata?: EventMetadata,
  ): void {
    const event = { eventType, payload } as unknown as TEvent;
    this.when(event);
    this.version++;
    this.uncommitted.push(metadata ? { eventType, payload, metadata } : { eventType, payload });
  }

  /** Applies a stored (or seed-style) event without queueing it. */
  applyEvent(event: EventLike): void {
    this.when(event as TEvent);
    this.version = event.version ?? this.version + 1;
  }

  /** Events raised since the last load or save (the seed's name). */
  getUncommittedEvents(): NewEvent[] {
    return [...this.uncommitted];
  }

  /** Forgets raised events after they were appended elsewhere; `save` calls it for you. */
  markCommitted(version = this.version): void {
    this.uncommitted = [];
    this.version = version;
    this.persistedVersion = version;
  }

  /** The state to store in a snapshot; override when state is not plain JSON. */
  toSnapshot(): unknown {
    return this.state;
  }

  /** Restores state from {@link toSnapshot}'s output; override together with it. */
  restoreSnapshot(state: unknown): void {
    this.state = state;
  }

  /**
   * Appends the uncommitted events with `expectedVersion` = the version loaded, then takes a
   * snapshot if this save crossed a multiple of `snapshotEvery`. With `tx`, the snapshot is
   * written in the same transaction; without, only after the append committed, so a snapshot
   * is never ahead of the log.
   *
   * Throws `ConcurrencyError` when another writer appended since this aggregate was loaded.
   */
  async save<Tx extends TransactionContext>(
    store: EventStore<Tx>,
    options: SaveOptions<Tx> = {},
  ): Promise<AppendResult> {
    const ctor = this.constructor as AggregateClass<Aggregate>;
    const before = this.persistedVersion;
    const result = await store.append(this.id, this.uncommitted, {
      expectedVersion: before,
      aggregateType: aggregateTypeOf(ctor),
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...(options.tx ? { tx: options.tx } : {}),
    });
    this.markCommitted(result.nextExpectedVersion);
    const every = options.snapshotEvery ?? ctor.snapshotEvery;
    if (options.snapshots && every && Math.floor(before / every) < Math.floor(this.version / every)) {
      await options.snapshots.save(this.snapshot(options.clock), options.tx ? { tx: options.tx } : {});
    }
    return result;
  }

  /** This aggregate's snapshot at its current version. */
  snapshot(clock: Clock = systemClock): {
    streamId: string;
    aggregateType: string;
    version: number;
    schemaVersion: number;
    state: unknown;
    takenAt: Date;
  } {
    const ctor = this.constructor as AggregateClass<Aggregate>;
    return {
      streamId: this.id,
      aggregateType: aggregateTypeOf(ctor),
      version: this.version,
      schemaVersion: ctor.snapshotVersion ?? 1,
      state: structuredClone(this.toSnapshot()),
      takenAt: new Date(clock.now()),
    };
  }

  /** Rebuilds an aggregate from events (the seed's `fromEvents`); events need only type and payload. */
  static fromEvents<A extends Aggregate>(this: AggregateClass<A>, events: Iterable<EventLike>, id = ''): A {
    const aggregate = new this(id);
    for (const e of events) aggregate.applyEvent(e);
    aggregate.persistedVersion = aggregate.version;
    return aggregate;
  }

  /**
   * Loads an aggregate from `store` (the seed's `load`): the latest usable snapshot plus the
   * events after it. A snapshot of another `snapshotVersion` is ignored (state rebuilt from
   * events), and a fresh one is written when the replayed tail reached `snapshotEvery`.
   * A stream with no events loads as a new aggregate at version 0.
   */
  static async load<A extends Aggregate, Tx extends TransactionContext>(
    this: AggregateClass<A>,
    store: EventStore<Tx>,
    id: string,
    options: LoadOptions<Tx> = {},
  ): Promise<A> {
    const aggregate = new this(id);
    const ctor = aggregate.constructor as AggregateClass<A>;
    const txOption = options.tx ? { tx: options.tx } : {};
    let from = 0;
    if (options.snapshots) {
      const snap = await options.snapshots.load(id, txOption);
      if (
        snap &&
        snap.schemaVersion === (ctor.snapshotVersion ?? 1) &&
        snap.aggregateType === aggregateTypeOf(ctor)
      ) {
        aggregate.restoreSnapshot(snap.state);
        aggregate.version = snap.version;
        from = snap.version;
      }
    }
    const events: DomainEvent[] = await store.getEvents(id, from, txOption);
    for (const e of events) aggregate.applyEvent(e);
    aggregate.persistedVersion = aggregate.version;
    const every = options.snapshotEvery ?? ctor.snapshotEvery;
    if (options.snapshots && every && aggregate.version - from >= every) {
      await options.snapshots.save(aggregate.snapshot(options.clock), txOption);
    }
    return aggregate;
  }

  /**
   * Load, run a command, save, and on a `ConcurrencyError` start over from a fresh load (up
   * to `retries` more times): the usual optimistic-concurrency loop of a command handler.
   * `command` may run several times, so it must only touch the aggregate.
   *
   * Throws the command's own errors at once, and `ConcurrencyError` when retries run out.
   *
   * @example
   * ```ts
   * await OrderAggregate.update(store, 'order-1', (order) => order.addItem('p1', 2), { retries: 3 });
   * ```
   */
  static async update<A extends Aggregate, Tx extends TransactionContext>(
    this: AggregateClass<A>,
    store: EventStore<Tx>,
    id: string,
    command: (aggregate: A) => void | Promise<void>,
    options: SaveOptions<Tx> & { retries?: number } = {},
  ): Promise<A> {
    const retries = options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass `update` was called on.
      const aggregate = (await Aggregate.load.call(this, store, id, options)) as A;
      await command(aggregate);
      try {
        await aggregate.save(store, options);
        return aggregate;
      } catch (err) {
        // Inside a caller's transaction a retry cannot see newer events: let the caller retry.
        if (!isConcurrencyError(err) || attempt >= retries || options.tx) throw err;
      }
    }
  }
}

/** The aggregate type name stored on events. */
export function aggregateTypeOf(ctor: AggregateClass<Aggregate>): string {
  return ctor.aggregateType ?? ctor.name;
}
