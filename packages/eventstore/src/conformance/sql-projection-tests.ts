import type { SqlTransaction } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../domain-event.js';
import { OrderReadModel } from '../examples/order-read-model.js';
import { useInlineProjection } from '../projection.js';
import { ProjectionRunner } from '../projection-runner.js';
import { type ConformanceFactory, useConformanceContext } from './harness.js';

const added = (productId: string, quantity: number): NewEvent => ({
  eventType: 'ItemAdded',
  payload: { productId, quantity },
});
const submitted: NewEvent = { eventType: 'OrderSubmitted', payload: {} };

/**
 * Registers read-model tests for SQL backends with the seed's `OrderReadModel`
 * (`orders_view`): inline and async, idempotent handlers, rebuild into a fresh table with
 * the default SQL drop-and-rename.
 */
export function describeSqlProjectionConformance(
  name: string,
  factory: ConformanceFactory<SqlTransaction>,
): void {
  describe(`SQL projections: ${name}`, () => {
    const ctx = useConformanceContext(factory);
    const view = (id: string, model = new OrderReadModel()) =>
      ctx.store.transaction((tx) => model.get(tx, id));

    it('keeps orders_view in step inline, inside each append transaction', async () => {
      const { store, clock } = ctx;
      await useInlineProjection(store, new OrderReadModel());
      await store.append('o-1', [added('p1', 2), added('p2', 3)], { aggregateType: 'Order' });
      expect(await view('o-1')).toMatchObject({
        status: 'draft',
        item_count: 5,
        line_count: 2,
        submitted_at: null,
      });
      await clock.advance(60_000);
      await store.append('o-1', [submitted]);
      expect(await view('o-1')).toMatchObject({
        status: 'submitted',
        submitted_at: new Date(clock.now()).toISOString(),
        last_position: 3,
      });
    });

    it('fails the append when its inline projection fails, leaving events and view untouched', async () => {
      const { store } = ctx;
      // Registered without setup: the table does not exist, so projecting throws.
      store.onAppend(async (tx, events) => {
        for (const e of events)
          await new OrderReadModel('missing_view').project(e, { tx, table: 'missing_view' });
      });
      await expect(store.append('o-1', [added('p', 1)])).rejects.toThrow();
      expect(await store.headPosition()).toBe(0);
    });

    it('projects async with its own checkpoint; handlers are idempotent on their own', async () => {
      const { store, storage } = ctx;
      const model = new OrderReadModel();
      const runner = new ProjectionRunner({
        store,
        checkpoints: storage.checkpoints,
        projection: model,
        batchSize: 2,
      });
      await runner.setup();
      await store.append('o-1', [added('p1', 1), added('p2', 1)]);
      await store.append('o-2', [added('p1', 4)]);
      await store.append('o-1', [submitted]);
      expect(await runner.catchUp()).toBe(4);
      expect(await view('o-1')).toMatchObject({ status: 'submitted', item_count: 2, line_count: 2 });
      expect(await view('o-2')).toMatchObject({ status: 'draft', item_count: 4 });
      // Delivering an already-applied event again changes nothing.
      const [first] = await store.readAll(0, 1);
      await store.transaction((tx) => model.project(first!, { tx, table: model.table }));
      expect(await view('o-1')).toMatchObject({ item_count: 2, line_count: 2 });
      expect((await storage.checkpoints.list()).find((c) => c.name === model.name)?.position).toBe(4);
    });

    it('rebuilds orders_view from position 0 into a fresh table and swaps it in', async () => {
      const { store, storage } = ctx;
      const model = new OrderReadModel();
      const runner = new ProjectionRunner({
        store,
        checkpoints: storage.checkpoints,
        projection: model,
        batchSize: 3,
      });
      await runner.setup();
      for (let i = 0; i < 5; i++) await store.append(`o-${i}`, [added('p', i + 1), added('q', 1)]);
      await runner.catchUp();
      await store.transaction((tx) => tx.execute("UPDATE orders_view SET item_count = 999 WHERE id = 'o-3'"));
      expect(await runner.rebuild()).toBe(10);
      expect(await view('o-3')).toMatchObject({ item_count: 5, line_count: 2 });
      const count = await store.transaction((tx) =>
        tx.query<{ n: number }>('SELECT count(*) AS n FROM orders_view'),
      );
      expect(Number(count[0]?.n)).toBe(5);
      await expect(
        store.transaction((tx) => tx.query('SELECT 1 FROM orders_view__rebuild')),
      ).rejects.toThrow();
      await store.append('o-0', [submitted]);
      await runner.catchUp();
      expect(await view('o-0')).toMatchObject({ status: 'submitted' });
    });
  });
}
