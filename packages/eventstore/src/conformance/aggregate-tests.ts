import { expect, it } from 'vitest';
import { Aggregate } from '../aggregate.js';
import type { EventLike } from '../domain-event.js';
import { isConcurrencyError } from '../errors.js';
import type { EventStore, TransactionContext } from '../event-store.js';
import { OrderAggregate } from '../examples/order-aggregate.js';
import type { ConformanceContext } from './harness.js';

type CounterEvent = EventLike<'Incremented', { by: number }>;

/** A counter that snapshots every 10 events. */
class Counter extends Aggregate<CounterEvent> {
  static readonly aggregateType = 'Counter';
  static readonly snapshotEvery = 10;
  static snapshotVersion = 1;
  state = { total: 0, applied: 0 };

  increment(by = 1): void {
    this.raise('Incremented', { by });
  }

  protected when(e: CounterEvent): void {
    this.state.total += e.payload.by;
    this.state.applied++;
  }
}

/** Wraps a store to record which `fromVersion` each stream read started at. */
function recordingReads<Tx extends TransactionContext>(
  store: EventStore<Tx>,
): { store: EventStore<Tx>; reads: number[] } {
  const reads: number[] = [];
  const wrapped = Object.create(store) as EventStore<Tx>;
  wrapped.getEvents = (id, from = 0, options) => {
    reads.push(from);
    return store.getEvents(id, from, options);
  };
  return { store: wrapped, reads };
}

/** Aggregates (the seed's OrderAggregate) and snapshots. */
export function aggregateTests<Tx extends TransactionContext>(ctx: ConformanceContext<Tx>): void {
  it('saves and loads the seed OrderAggregate, rejecting a stale writer', async () => {
    const { store } = ctx;
    const order = await OrderAggregate.load(store, 'order-1');
    expect(order.version).toBe(0);
    order.addItem('p1', 2);
    order.addItem('p2', 1);
    expect(order.getUncommittedEvents().map((e) => e.eventType)).toEqual(['ItemAdded', 'ItemAdded']);
    await order.save(store, { metadata: { correlationId: 'req-1' } });
    expect(order.getUncommittedEvents()).toEqual([]);

    const a = await OrderAggregate.load(store, 'order-1');
    const b = await OrderAggregate.load(store, 'order-1');
    expect(a.state.items).toHaveLength(2);
    expect(a.version).toBe(2);
    a.submit();
    await a.save(store);
    b.addItem('p3', 1);
    const err = await b.save(store).catch((e) => e);
    expect(isConcurrencyError(err)).toBe(true);
    expect(err).toMatchObject({ expectedVersion: 2, actualVersion: 3 });

    const events = await store.getEvents('order-1');
    expect(events.map((e) => e.aggregateType)).toEqual(['Order', 'Order', 'Order']);
    expect(events[0]?.metadata.correlationId).toBe('req-1');
    expect((await OrderAggregate.load(store, 'order-1')).state.status).toBe('submitted');
  });

  it('retries a command on ConcurrencyError with update(), never on its own errors', async () => {
    const { store } = ctx;
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => Counter.update(store, 'c-u', (c) => c.increment(2), { retries: 20 })),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect((await Counter.load(store, 'c-u')).state.total).toBe(16);
    let calls = 0;
    const boom = await Counter.update(store, 'c-u', () => {
      calls++;
      throw new Error('invalid command');
    }).catch((e) => e);
    expect([boom.message, calls]).toEqual(['invalid command', 1]);
    const raced = await Promise.allSettled(
      Array.from({ length: 4 }, () => Counter.update(store, 'c-u', (c) => c.increment(), { retries: 0 })),
    );
    expect(raced.some((r) => r.status === 'fulfilled')).toBe(true);
    for (const r of raced) if (r.status === 'rejected') expect(isConcurrencyError(r.reason)).toBe(true);
  });

  it('takes a snapshot every N events and loads snapshot plus tail', async () => {
    const { store, storage } = ctx;
    const snapshots = storage.snapshots;
    const counter = new Counter('c-1');
    for (let i = 0; i < 9; i++) counter.increment();
    await counter.save(store, { snapshots });
    expect(await snapshots.load('c-1')).toBeUndefined();
    for (let i = 0; i < 14; i++) counter.increment(2);
    await counter.save(store, { snapshots });
    expect(await snapshots.load('c-1')).toMatchObject({
      version: 23,
      schemaVersion: 1,
      aggregateType: 'Counter',
    });
    const more = await Counter.load(store, 'c-1', { snapshots });
    more.increment(5);
    await more.save(store, { snapshots });

    const rec = recordingReads(store);
    const loaded = await Counter.load(rec.store, 'c-1', { snapshots });
    expect(rec.reads).toEqual([23]);
    expect(loaded.state.total).toBe(9 + 28 + 5);
    expect(loaded.version).toBe(24);
    expect(loaded.persistedVersion).toBe(24);
  });

  it('ignores a snapshot of another state version and rebuilds (and refreshes) it from events', async () => {
    const { store, storage } = ctx;
    const snapshots = storage.snapshots;
    const c = new Counter('c-2');
    for (let i = 0; i < 12; i++) c.increment();
    await c.save(store, { snapshots });
    expect((await snapshots.load('c-2'))?.version).toBe(12);
    Counter.snapshotVersion = 2;
    try {
      const rec = recordingReads(store);
      const loaded = await Counter.load(rec.store, 'c-2', { snapshots });
      expect(rec.reads).toEqual([0]);
      expect(loaded.state).toEqual({ total: 12, applied: 12 });
      expect(await snapshots.load('c-2')).toMatchObject({ version: 12, schemaVersion: 2 });
    } finally {
      Counter.snapshotVersion = 1;
    }
  });

  it('never replaces a snapshot with an older one of the same shape, and deletes', async () => {
    const snapshots = ctx.storage.snapshots;
    const snap = (version: number, schemaVersion = 1) => ({
      streamId: 's',
      aggregateType: 'T',
      version,
      schemaVersion,
      state: { version },
      takenAt: new Date(0),
    });
    await snapshots.save(snap(20));
    await snapshots.save(snap(10));
    expect((await snapshots.load('s'))?.state).toEqual({ version: 20 });
    await snapshots.save(snap(5, 2));
    expect(await snapshots.load('s')).toMatchObject({ version: 5, schemaVersion: 2 });
    await snapshots.delete('s');
    expect(await snapshots.load('s')).toBeUndefined();
  });

  it('round-trips a snapshot whose state is itself a JSON string, with its time', async () => {
    const snapshot = {
      streamId: 'str',
      aggregateType: 'T',
      version: 3,
      schemaVersion: 1,
      state: '{"not":"an object"}',
      takenAt: new Date('2024-05-06T07:08:09.123Z'),
    };
    await ctx.storage.snapshots.save({ ...snapshot });
    expect(await ctx.storage.snapshots.load('str')).toEqual(snapshot);
  });

  it('saves an aggregate and its snapshot in a caller transaction, or neither', async () => {
    const { store, storage } = ctx;
    const snapshots = storage.snapshots;
    const c = new Counter('c-3');
    for (let i = 0; i < 10; i++) c.increment();
    await store
      .transaction(async (tx) => {
        await c.save(store, { snapshots, tx });
        throw new Error('rollback');
      })
      .catch(() => {});
    expect(await store.streamVersion('c-3')).toBe(0);
    expect(await snapshots.load('c-3')).toBeUndefined();
  });
}
