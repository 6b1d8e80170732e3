import { expect, it } from 'vitest';
import { isConcurrencyError } from '../errors.js';
import type { TransactionContext } from '../event-store.js';
import { type ConformanceContext, T0, ticks } from './harness.js';

/** Appending, reading and optimistic concurrency. */
export function appendTests<Tx extends TransactionContext>(ctx: ConformanceContext<Tx>): void {
  it('appends a stream and reads it back with versions, positions, ids, time and metadata', async () => {
    const { store } = ctx;
    const result = await store.append(
      'order-1',
      [
        {
          eventType: 'ItemAdded',
          payload: { productId: 'p1', quantity: 2 },
          metadata: { causationId: 'cmd-1' },
        },
        { eventType: 'OrderSubmitted', payload: {} },
      ],
      {
        expectedVersion: 'no_stream',
        aggregateType: 'Order',
        metadata: { correlationId: 'c-1', userId: 'u-1' },
      },
    );
    expect(result.nextExpectedVersion).toBe(2);
    expect(result.lastPosition).toBe(2);
    const events = await store.getEvents('order-1');
    expect(events).toEqual(result.events);
    expect(events.map((e) => [e.version, e.position, e.eventType])).toEqual([
      [1, 1, 'ItemAdded'],
      [2, 2, 'OrderSubmitted'],
    ]);
    const [first] = events;
    expect(first).toMatchObject({
      aggregateId: 'order-1',
      aggregateType: 'Order',
      payload: { productId: 'p1', quantity: 2 },
      schemaVersion: 1,
      metadata: { correlationId: 'c-1', userId: 'u-1', causationId: 'cmd-1' },
    });
    expect(first?.timestamp).toEqual(new Date(T0));
    expect(first?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
  });

  it('keeps caller-supplied ids and timestamps and round-trips any JSON payload', async () => {
    const payload = {
      s: 'ünïcødé ✓ "quotes"',
      n: -1.5,
      big: 2 ** 52,
      nil: null,
      list: [1, 'two', { three: 3 }],
    };
    const at = new Date('2025-06-01T12:34:56.789Z');
    await ctx.store.append('s', [{ id: 'evt-fixed', eventType: 'Data', payload, timestamp: at }]);
    const [e] = await ctx.store.getEvents('s');
    expect(e).toMatchObject({
      id: 'evt-fixed',
      payload,
      timestamp: at,
      aggregateType: 'unknown',
      metadata: {},
    });
  });

  it('reads a stream from a version (version > fromVersion), like the seed', async () => {
    await ctx.store.append('s', ticks(5));
    expect((await ctx.store.getEvents('s', 3)).map((e) => e.version)).toEqual([4, 5]);
    expect(await ctx.store.getEvents('s', 5)).toEqual([]);
    expect(await ctx.store.getEvents('missing')).toEqual([]);
  });

  it('checks a numeric expected version and reports expected vs actual', async () => {
    const { store } = ctx;
    await store.append('s', ticks(2), { expectedVersion: 0 });
    await store.append('s', ticks(1), { expectedVersion: 2 });
    const err = await store.append('s', ticks(1), { expectedVersion: 2 }).catch((e) => e);
    expect(isConcurrencyError(err)).toBe(true);
    expect(err).toMatchObject({ streamId: 's', expectedVersion: 2, actualVersion: 3, status: 409 });
    expect(await store.streamVersion('s')).toBe(3);
    expect(await store.headPosition()).toBe(3);
  });

  it("supports 'no_stream', 'stream_exists' and 'any'", async () => {
    const { store } = ctx;
    await expect(store.append('s', ticks(1), { expectedVersion: 'stream_exists' })).rejects.toMatchObject({
      code: 'CONCURRENCY_CONFLICT',
      actualVersion: 0,
    });
    await store.append('s', ticks(1), { expectedVersion: 'no_stream' });
    await expect(store.append('s', ticks(1), { expectedVersion: 'no_stream' })).rejects.toMatchObject({
      code: 'CONCURRENCY_CONFLICT',
      expectedVersion: 'no_stream',
      actualVersion: 1,
    });
    await store.append('s', ticks(1), { expectedVersion: 'stream_exists' });
    await store.append('s', ticks(1), { expectedVersion: 'any' });
    await store.append('s', ticks(1));
    expect(await store.streamVersion('s')).toBe(4);
  });

  it('lets exactly one of many concurrent writers with the same expected version win', async () => {
    const { store } = ctx;
    await store.append('s', ticks(1));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.append('s', ticks(2, i * 10), { expectedVersion: 1 })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.every((r) => isConcurrencyError((r as PromiseRejectedResult).reason))).toBe(true);
    expect((await store.getEvents('s')).map((e) => e.version)).toEqual([1, 2, 3]);
    expect(await store.headPosition()).toBe(3);
  });

  it('treats an empty append as a version check that writes nothing', async () => {
    await ctx.store.append('s', ticks(2));
    expect(await ctx.store.append('s', [], { expectedVersion: 2 })).toEqual({
      nextExpectedVersion: 2,
      lastPosition: 0,
      events: [],
    });
    await expect(ctx.store.append('s', [], { expectedVersion: 5 })).rejects.toMatchObject({
      actualVersion: 2,
    });
    expect(await ctx.store.headPosition()).toBe(2);
  });

  it('orders the global log by commit with dense positions, paged by readAll', async () => {
    const { store } = ctx;
    await store.append('a', ticks(2));
    await store.append('b', ticks(3));
    await store.append('a', ticks(1));
    const all = await store.readAll();
    expect(all.map((e) => [e.position, e.aggregateId, e.version])).toEqual([
      [1, 'a', 1],
      [2, 'a', 2],
      [3, 'b', 1],
      [4, 'b', 2],
      [5, 'b', 3],
      [6, 'a', 3],
    ]);
    expect((await store.readAll(2, 3)).map((e) => e.position)).toEqual([3, 4, 5]);
    expect(await store.readAll(6)).toEqual([]);
    expect(await store.readAll(0, 0)).toEqual([]);
    expect(await store.headPosition()).toBe(6);
    expect(await store.streamVersion('b')).toBe(3);
    expect(await store.streamVersion('nope')).toBe(0);
  });

  it('never lets a caller rewrite history by mutating returned events', async () => {
    await ctx.store.append('s', [{ eventType: 'Data', payload: { list: [1] } }]);
    const [e] = await ctx.store.getEvents('s');
    (e!.payload as { list: number[] }).list.push(2);
    const [again] = await ctx.store.readAll();
    expect(again?.payload).toEqual({ list: [1] });
  });

  it('keeps every stream gap-free and the log complete under many concurrent writers', async () => {
    const { store } = ctx;
    const writes = Array.from({ length: 60 }, (_, i) => store.append(`s-${i % 6}`, ticks(1 + (i % 3))));
    await Promise.all(writes);
    const all = await store.readAll(0, 10_000);
    expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
    for (let s = 0; s < 6; s++) {
      const versions = all.filter((e) => e.aggregateId === `s-${s}`).map((e) => e.version);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
  });
}
