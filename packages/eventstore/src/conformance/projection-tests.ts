import { expect, it } from 'vitest';
import type { DomainEvent } from '../domain-event.js';
import { isProjectionError } from '../errors.js';
import type { TransactionContext } from '../event-store.js';
import type { Projection, ProjectionContext } from '../projection.js';
import { useInlineProjection } from '../projection.js';
import { ProjectionRunner } from '../projection-runner.js';
import { type ConformanceContext, ticks } from './harness.js';

/**
 * A backend-neutral read model: "tables" are arrays in a Map, written through
 * `tx.afterCommit`, so a rolled-back batch leaves no trace, exactly like a SQL table would.
 */
class PositionsModel<Tx extends TransactionContext> implements Projection<Tx> {
  readonly tables = new Map<string, number[]>();
  readonly table = 'positions';
  fail: ((e: DomainEvent) => boolean) | undefined;
  calls = 0;

  constructor(
    readonly name = 'positions',
    readonly eventTypes?: readonly string[],
  ) {}

  rows(table = this.table): number[] {
    return this.tables.get(table) ?? [];
  }

  setup({ tx, table }: ProjectionContext<Tx>): void {
    tx.afterCommit(() => {
      if (!this.tables.has(table)) this.tables.set(table, []);
    });
  }

  project(e: DomainEvent, { tx, table }: ProjectionContext<Tx>): void {
    this.calls++;
    if (this.fail?.(e)) throw new Error(`cannot project ${e.position}`);
    tx.afterCommit(() => this.tables.get(table)?.push(e.position));
  }

  drop({ tx, table }: ProjectionContext<Tx>): void {
    tx.afterCommit(() => this.tables.delete(table));
  }

  promote({ tx, table, from }: ProjectionContext<Tx> & { from: string }): void {
    tx.afterCommit(() => {
      this.tables.set(table, this.tables.get(from) ?? []);
      this.tables.delete(from);
    });
  }
}

/** Inline and async projections, checkpoints, resume and rebuild. */
export function projectionTests<Tx extends TransactionContext>(ctx: ConformanceContext<Tx>): void {
  const runner = (model: PositionsModel<Tx>, batchSize = 4) =>
    new ProjectionRunner({
      store: ctx.store,
      checkpoints: ctx.storage.checkpoints,
      projection: model,
      batchSize,
      clock: ctx.clock,
      maxAttempts: 3,
      retryDelayMs: 100,
    });

  it('runs an inline projection in the append transaction', async () => {
    const model = new PositionsModel<Tx>('inline', ['Tick']);
    const off = await useInlineProjection(ctx.store, model);
    await ctx.store.append('s', [...ticks(2), { eventType: 'Other', payload: {} }]);
    expect(model.rows()).toEqual([1, 2]);
    await ctx.store
      .transaction(async (tx) => {
        await ctx.store.append('s', ticks(1), { tx });
        throw new Error('rollback');
      })
      .catch(() => {});
    expect(model.rows()).toEqual([1, 2]);
    off();
  });

  it('catches up in batches with the checkpoint committed alongside, then follows live', async () => {
    const { store, storage } = ctx;
    await store.append('s', ticks(10));
    const model = new PositionsModel<Tx>();
    const r = runner(model);
    await r.setup();
    r.start();
    await r.waitFor(10);
    expect(model.rows()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await store.append('t', ticks(3));
    await r.waitFor(13);
    expect(model.rows()).toHaveLength(13);
    await r.stop();
    expect(r.state).toBe('stopped');
    expect(await storage.checkpoints.list()).toMatchObject([{ name: 'positions', position: 13 }]);
    expect(ctx.clock.pendingTimers()).toBe(0);
  });

  it('resumes from its checkpoint without handling anything twice', async () => {
    const { store } = ctx;
    const model = new PositionsModel<Tx>();
    await store.append('s', ticks(6));
    const first = runner(model);
    await first.setup();
    await first.catchUp();
    await store.append('s', ticks(5));
    const again = runner(model);
    expect(await again.catchUp()).toBe(11);
    expect(model.rows()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('never moves the checkpoint past a failing event; retries, then stops as failed', async () => {
    const { store, storage, clock } = ctx;
    await store.append('s', ticks(10));
    const model = new PositionsModel<Tx>();
    model.fail = (e) => e.position === 7;
    const errors: number[] = [];
    let signal: (() => void) | undefined;
    const nextError = () =>
      new Promise<void>((resolve) => {
        signal = resolve;
      });
    const r = new ProjectionRunner({
      store,
      checkpoints: storage.checkpoints,
      projection: model,
      batchSize: 4,
      clock,
      maxAttempts: 3,
      retryDelayMs: 100,
      onError: (e, attempt) => {
        expect(isProjectionError(e)).toBe(true);
        errors.push(attempt);
        signal?.();
      },
    });
    await r.setup();
    const failed = r.waitFor(10);
    failed.catch(() => {});
    let next = nextError();
    r.start();
    await next; // attempt 1 failed; its retry timer is now set
    next = nextError();
    await clock.advance(100);
    await next;
    next = nextError();
    await clock.advance(200);
    await next;
    await expect(failed).rejects.toMatchObject({ code: 'PROJECTION_FAILED', position: 7 });
    expect(errors).toEqual([1, 2, 3]);
    expect(r.state).toBe('failed');
    expect(model.rows()).toEqual([1, 2, 3, 4]);
    expect((await storage.checkpoints.list())[0]?.position).toBe(4);
    await r.stop();

    model.fail = undefined; // the bug is fixed and the runner restarted
    expect(await runner(model).catchUp()).toBe(10);
    expect(model.rows()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('handles every event exactly once with two runners racing on one projection', async () => {
    const { store } = ctx;
    await store.append('s', ticks(40));
    const model = new PositionsModel<Tx>();
    const [a, b] = [runner(model, 3), runner(model, 3)];
    await a.setup();
    await Promise.all([a.catchUp(), b.catchUp()]);
    // Batches commit in order; their afterCommit callbacks may reach us out of order across
    // connections, so compare as a set, with no duplicates.
    expect(model.rows()).toHaveLength(40);
    expect([...model.rows()].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('rebuilds from position 0 into a fresh table and swaps it in', async () => {
    const { store, storage } = ctx;
    const model = new PositionsModel<Tx>('positions', ['Tick']);
    await store.append('s', [...ticks(5), { eventType: 'Other', payload: {} }, ...ticks(3)]);
    const r = runner(model);
    await r.setup();
    await r.catchUp();
    model.tables.set('positions', [999]); // the live table went wrong (a bug, a manual edit)
    expect(await r.rebuild()).toBe(9);
    expect(model.rows()).toEqual([1, 2, 3, 4, 5, 7, 8, 9]);
    expect(model.tables.has('positions__rebuild')).toBe(false);
    expect((await storage.checkpoints.list()).map((c) => [c.name, c.position])).toEqual([['positions', 9]]);
    await store.append('s', ticks(1));
    await r.catchUp();
    expect(model.rows().at(-1)).toBe(10);
  });
}
