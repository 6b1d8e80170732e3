import { ManualClock } from '@trellis/core';
import { SagaRunner } from '@trellis/saga';
import { SqliteEventStore, SqliteSagaStore, SqliteSnapshotStore } from '@trellis/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_ADDRESS } from '../../demo-data.js';
import { isOrderStateError } from '../../errors.js';
import { tempSqlite } from '../../testing/temp-sqlite.js';
import { OrderAggregate } from './order-aggregate.js';
import { requestCancellation } from './order-cancellation.js';
import { orderEvents } from './order-events.js';
import { OrderRepository } from './order-repository.js';
import { customerCancellation } from './place-order-saga.js';

const at = '2026-01-01T00:00:00.000Z';

function submitted(id: string): OrderAggregate {
  const o = new OrderAggregate(id);
  o.create('c1', DEMO_ADDRESS, at);
  o.addItem({ productId: 'p', name: 'P', quantity: 1, unitPriceCents: 500 }, at);
  o.submit('pm_card_visa', at);
  return o;
}

describe('a customer cancellation request on the order', () => {
  it('is recorded once while the order is being fulfilled, and shows in the view', () => {
    const o = submitted('o1');
    o.requestCancellation('ordered twice', at);
    o.requestCancellation('again', at);
    const requests = o.getUncommittedEvents().filter((e) => e.eventType === 'OrderCancellationRequested');
    expect(requests).toHaveLength(1);
    expect(o.state.status).toBe('submitted'); // the saga, not the request, cancels it
    expect(o.toView().cancelRequestedAt).toBe(at);
  });

  it('is refused once the order has shipped, and is a no-op once it is cancelled', () => {
    const shipped = submitted('o2');
    shipped.markPaid('pay', 500, at);
    shipped.markShipped('s', 'TRL', at);
    let error: unknown;
    try {
      shipped.requestCancellation('too late', at);
    } catch (e) {
      error = e;
    }
    expect(isOrderStateError(error)).toBe(true);
    const cancelled = submitted('o3');
    cancelled.cancel('declined', 'payment_declined', at);
    cancelled.requestCancellation('whatever', at);
    expect(cancelled.getUncommittedEvents().at(-1)?.eventType).toBe('OrderCancelled');
  });

  it('gives the compensation the customer’s reason', () => {
    expect(customerCancellation({ reason: 'ordered twice' })).toEqual({
      code: 'customer_request',
      reason: "Cancelled at the customer's request: ordered twice",
    });
    expect(customerCancellation({ reason: '' }).reason).toBe("Cancelled at the customer's request");
  });

  describe('through requestCancellation on SQLite', () => {
    let t: ReturnType<typeof tempSqlite>;
    let orders: OrderRepository;
    let runner: SagaRunner;
    const clock = new ManualClock(Date.parse(at));
    beforeEach(async () => {
      t = tempSqlite();
      orders = new OrderRepository(
        await SqliteEventStore.create(t.db, { registry: orderEvents }),
        await SqliteSnapshotStore.create(t.db),
      );
      runner = new SagaRunner({ store: await SqliteSagaStore.create(t.db), clock });
    });
    afterEach(async () => {
      await runner.close();
      await t.cleanup();
    });

    it('records the request on the stream and returns the order still winding back', async () => {
      await orders.save(submitted('o4'), {});
      const order = await requestCancellation(
        { orders, runner, clock, waitMs: 0 },
        { orderId: 'o4', reason: 'changed my mind', correlationId: 'corr-1' },
      );
      expect(order.state.cancelRequest).toEqual({ reason: 'changed my mind', at });
      const events = await orders.events.getEvents('o4');
      expect(events.at(-1)).toMatchObject({
        eventType: 'OrderCancellationRequested',
        metadata: expect.objectContaining({ correlationId: 'corr-1' }),
      });
    });

    it('refuses a shipped order and appends nothing', async () => {
      const o = submitted('o5');
      o.markPaid('pay', 500, at);
      o.markShipped('s', 'TRL', at);
      await orders.save(o, {});
      const before = await orders.events.streamVersion('o5');
      await expect(
        requestCancellation(
          { orders, runner, clock, waitMs: 0 },
          { orderId: 'o5', reason: '', correlationId: 'c' },
        ),
      ).rejects.toSatisfy(isOrderStateError);
      expect(await orders.events.streamVersion('o5')).toBe(before);
    });
  });
});
