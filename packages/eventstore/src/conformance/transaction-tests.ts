import { expect, it } from 'vitest';
import type { DomainEvent } from '../domain-event.js';
import type { TransactionContext } from '../event-store.js';
import { type ConformanceContext, ticks } from './harness.js';

/** Joining transactions and the transactional append hook contract. */
export function transactionTests<Tx extends TransactionContext>(ctx: ConformanceContext<Tx>): void {
  it('joins an open transaction: visible inside it, gone on rollback, kept on commit', async () => {
    const { store } = ctx;
    await expect(
      store.transaction(async (tx) => {
        await store.append('s', ticks(2), { tx });
        expect((await store.getEvents('s', 0, { tx })).map((e) => e.version)).toEqual([1, 2]);
        expect(await store.streamVersion('s', { tx })).toBe(2);
        expect(await store.headPosition({ tx })).toBe(2);
        expect(await store.readAll(0, 10, { tx })).toHaveLength(2);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await store.getEvents('s')).toEqual([]);
    expect(await store.headPosition()).toBe(0);

    await store.transaction(async (tx) => {
      await store.append('s', ticks(1), { tx, expectedVersion: 'no_stream' });
      await store.append('s', ticks(1), { tx, expectedVersion: 1 });
    });
    expect((await store.readAll()).map((e) => [e.position, e.version])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('runs append hooks inside the append transaction with the stored events', async () => {
    const { store } = ctx;
    const seen: Array<{ events: DomainEvent[]; committed: boolean }> = [];
    store.onAppend(async (tx, events) => {
      const entry = { events: [...events], committed: false };
      seen.push(entry);
      tx.afterCommit(() => {
        entry.committed = true;
      });
    });
    const result = await store.append('s', ticks(2), { aggregateType: 'T' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.committed).toBe(true);
    expect(seen[0]?.events).toEqual(result.events);
    expect(seen[0]?.events.map((e) => e.position)).toEqual([1, 2]);
    await store.append('s', []);
    expect(seen).toHaveLength(1);
  });

  it('rolls the append back when a hook throws: nothing written, nothing committed', async () => {
    const { store } = ctx;
    const committed: number[] = [];
    store.onAppend((tx, events) => tx.afterCommit(() => committed.push(...events.map((e) => e.position))));
    const off = store.onAppend((_tx, events) => {
      if (events.some((e) => (e.payload as { n: number }).n === 13)) throw new Error('outbox full');
    });
    await store.append('s', ticks(1));
    await expect(store.append('s', ticks(2, 12))).rejects.toThrow('outbox full');
    expect(await store.getEvents('s')).toHaveLength(1);
    expect(await store.headPosition()).toBe(1);
    off();
    await store.append('s', ticks(2, 12), { expectedVersion: 1 });
    expect(committed).toEqual([1, 2, 3]);
  });

  it('keeps an append atomic inside a caller transaction when its hook fails', async () => {
    const { store } = ctx;
    store.onAppend((_tx, events) => {
      if (events[0]?.aggregateId === 'bad') throw new Error('hook failed');
    });
    await store.transaction(async (tx) => {
      await store.append('good', ticks(1), { tx });
      await expect(store.append('bad', ticks(3), { tx })).rejects.toThrow('hook failed');
      await store.append('good', ticks(1), { tx, expectedVersion: 1 });
    });
    const all = await store.readAll();
    expect(all.map((e) => [e.aggregateId, e.position])).toEqual([
      ['good', 1],
      ['good', 2],
    ]);
  });

  it('calls hooks in registration order and stops calling unregistered ones', async () => {
    const { store } = ctx;
    const calls: string[] = [];
    const offA = store.onAppend(() => {
      calls.push('a');
    });
    store.onAppend(() => {
      calls.push('b');
    });
    await store.append('s', ticks(1));
    offA();
    await store.append('s', ticks(1));
    expect(calls).toEqual(['a', 'b', 'b']);
  });

  it('notifies watchers only after a commit, never for a rollback', async () => {
    const { store } = ctx;
    let notified = 0;
    const stop = store.watch(() => {
      notified++;
    });
    await store
      .transaction(async (tx) => {
        await store.append('s', ticks(1), { tx });
        expect(notified).toBe(0);
        throw new Error('rollback');
      })
      .catch(() => {});
    expect(notified).toBe(0);
    await store.append('s', ticks(1));
    expect(notified).toBeGreaterThanOrEqual(1);
    stop();
    const before = notified;
    await store.append('s', ticks(1));
    expect(notified).toBe(before);
  });

  it('leaves other writers unaffected when one concurrent append fails its hook', async () => {
    const { store } = ctx;
    store.onAppend((_tx, events) => {
      if (events[0]?.aggregateId.startsWith('fail')) throw new Error('nope');
    });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => store.append(i % 4 === 0 ? `fail-${i}` : `ok-${i}`, ticks(2))),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    const all = await store.readAll(0, 100);
    expect(all).toHaveLength(18);
    expect(all.some((e) => e.aggregateId.startsWith('fail'))).toBe(false);
    expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
  });
}
