import { expect, it } from 'vitest';
import type { DomainEvent } from '../domain-event.js';
import type { TransactionContext } from '../event-store.js';
import { subscribe } from '../subscription.js';
import { type ConformanceContext, ticks } from './harness.js';

/** Catch-up subscriptions that switch to live. */
export function subscriptionTests<Tx extends TransactionContext>(ctx: ConformanceContext<Tx>): void {
  it('catches up on history in pages, then follows live appends, in order, once each', async () => {
    const { store, clock } = ctx;
    for (let i = 0; i < 7; i++) await store.append(`s-${i % 2}`, ticks(1, i));
    const seen: number[] = [];
    const caughtUp: number[] = [];
    const sub = subscribe(store, {
      handler: (e) => {
        seen.push(e.position);
      },
      batchSize: 3,
      clock,
      onCaughtUp: (p) => caughtUp.push(p),
    });
    await sub.waitFor(7);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await store.append('s-0', ticks(2));
    await sub.waitFor(9);
    await store.append('s-1', ticks(1));
    await sub.waitFor(10);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sub.live).toBe(true);
    expect(caughtUp[0]).toBe(7);
    await sub.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('starts after a given position and filters by event type while advancing past others', async () => {
    const { store, clock } = ctx;
    await store.append('s', [
      { eventType: 'A', payload: 1 },
      { eventType: 'B', payload: 2 },
      { eventType: 'A', payload: 3 },
      { eventType: 'B', payload: 4 },
    ]);
    const seen: DomainEvent[] = [];
    const sub = subscribe(store, { from: 1, eventTypes: ['B'], handler: (e) => void seen.push(e), clock });
    await sub.waitFor(4);
    expect(seen.map((e) => e.payload)).toEqual([2, 4]);
    expect(sub.position).toBe(4);
    await sub.stop();
  });

  it('picks up appends it was not told about on its poll interval', async () => {
    const { storage, store, clock } = ctx;
    const seen: number[] = [];
    let live!: () => void;
    const isLive = new Promise<void>((r) => {
      live = r;
    });
    const sub = subscribe(store, {
      handler: (e) => void seen.push(e.position),
      clock,
      pollIntervalMs: 1000,
      onCaughtUp: () => live(),
    });
    await isLive; // now waiting on its poll timer
    const other = await storage.open(); // "another process" writing to the same storage
    await other.append('x', ticks(2));
    await clock.advance(1000);
    await sub.waitFor(2);
    expect(seen).toEqual([1, 2]);
    await sub.stop();
  });

  it('retries failed reads with backoff instead of dying (a database restart)', async () => {
    const { store, clock } = ctx;
    await store.append('s', ticks(2));
    let failuresLeft = 2;
    const flaky = Object.create(store) as typeof store;
    flaky.readAll = (from, limit, options) => {
      if (failuresLeft-- > 0) return Promise.reject(new Error('connection terminated'));
      return store.readAll(from, limit, options);
    };
    const attempts: number[] = [];
    let failed!: () => void;
    let nextFailure = new Promise<void>((r) => {
      failed = r;
    });
    const seen: number[] = [];
    const sub = subscribe(flaky, {
      handler: (e) => void seen.push(e.position),
      clock,
      retryDelayMs: 100,
      onReadError: (_e, attempt) => {
        attempts.push(attempt);
        failed();
      },
    });
    await nextFailure;
    nextFailure = new Promise<void>((r) => {
      failed = r;
    });
    await clock.advance(100);
    await nextFailure;
    await clock.advance(200);
    await sub.waitFor(2);
    expect(attempts).toEqual([1, 2]);
    expect(seen).toEqual([1, 2]);
    await sub.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stops on a handler error, never advancing past the failed event', async () => {
    const { store, clock } = ctx;
    await store.append('s', ticks(3));
    const sub = subscribe(store, {
      handler: (e) => {
        if (e.position === 2) throw new Error('handler broke');
      },
      clock,
    });
    await expect(sub.done).rejects.toThrow('handler broke');
    expect(sub.position).toBe(1);
    await expect(sub.waitFor(3)).rejects.toThrow('handler broke');
    expect(clock.pendingTimers()).toBe(0);
  });
}
