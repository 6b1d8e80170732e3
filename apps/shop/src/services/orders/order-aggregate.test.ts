import { isValidationError } from '@trellis/core';
import { SqliteEventStore, SqliteSnapshotStore } from '@trellis/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_ADDRESS } from '../../demo-data.js';
import { isOrderStateError } from '../../errors.js';
import { tempSqlite } from '../../testing/temp-sqlite.js';
import { OrderAggregate } from './order-aggregate.js';
import { orderEvents } from './order-events.js';
import { OrderRepository } from './order-repository.js';

const at = '2026-01-01T00:00:00.000Z';
const line = { productId: 'p', name: 'P', quantity: 2, unitPriceCents: 150 };

function submitted(id = 'o1'): OrderAggregate {
  const o = new OrderAggregate(id);
  o.create('c1', DEMO_ADDRESS, at);
  o.addItem(line, at);
  o.addItem({ ...line, productId: 'q', quantity: 1, unitPriceCents: 1000 }, at);
  o.submit('pm_card_visa', at);
  return o;
}

describe('OrderAggregate', () => {
  it('moves draft → submitted → paid → shipped, totalling the lines', () => {
    const o = submitted();
    expect(o.state).toMatchObject({ status: 'submitted', totalCents: 1300 });
    o.markPaid('pay1', 1300, at);
    o.markShipped('s1', 'TRL1', at);
    expect(o.state).toMatchObject({ status: 'shipped', paymentId: 'pay1', trackingNumber: 'TRL1' });
    expect(o.getUncommittedEvents().map((e) => e.eventType)).toEqual([
      'OrderCreated',
      'ItemAdded',
      'ItemAdded',
      'OrderSubmitted',
      'OrderPaid',
      'OrderShipped',
    ]);
  });

  it('refuses commands out of order, and an empty submit', () => {
    const o = new OrderAggregate('o');
    o.create('c1', DEMO_ADDRESS, at);
    expect(isOrderStateError(capture(() => o.submit('pm', at)))).toBe(true);
    expect(isOrderStateError(capture(() => o.markPaid('p', 1, at)))).toBe(true);
    const s = submitted();
    expect(isOrderStateError(capture(() => s.addItem(line, at)))).toBe(true);
    expect(isOrderStateError(capture(() => s.markShipped('s', null, at)))).toBe(true);
    expect(
      isValidationError(capture(() => new OrderAggregate('x').addItem({ ...line, quantity: 0 }, at))),
    ).toBe(true);
    s.markPaid('p', 1300, at);
    s.markShipped('s', null, at);
    expect(isOrderStateError(capture(() => s.cancel('too late', 'x', at)))).toBe(true);
  });

  it('repeats nothing when the saga repeats a command after a crash', () => {
    const o = submitted();
    o.markPaid('pay1', 1300, at);
    o.markPaid('pay1', 1300, at);
    o.recordRefund('pay1', 1300, at);
    o.recordRefund('pay1', 1300, at);
    o.cancel('declined', 'payment_declined', at);
    o.cancel('declined', 'payment_declined', at);
    const types = o.getUncommittedEvents().map((e) => e.eventType);
    expect(types.filter((t) => t === 'OrderPaid')).toHaveLength(1);
    expect(types.filter((t) => t === 'PaymentRefunded')).toHaveLength(1);
    expect(types.filter((t) => t === 'OrderCancelled')).toHaveLength(1);
    expect(o.state).toMatchObject({ status: 'cancelled', refundedCents: 1300, cancelReason: 'declined' });
  });

  describe('on SQLite with snapshots', () => {
    let t: ReturnType<typeof tempSqlite>;
    let repo: OrderRepository;
    let snapshots: SqliteSnapshotStore;
    beforeEach(async () => {
      t = tempSqlite();
      snapshots = await SqliteSnapshotStore.create(t.db);
      repo = new OrderRepository(await SqliteEventStore.create(t.db, { registry: orderEvents }), snapshots);
    });
    afterEach(() => t.cleanup());

    it('saves, snapshots every 5 events, and loads the same state from snapshot plus tail', async () => {
      const o = submitted('o-snap');
      await repo.save(o, { correlationId: 'corr' });
      expect(await snapshots.load('o-snap')).toBeUndefined();
      await repo.update('o-snap', (x) => x.markPaid('pay1', 1300, at));
      const snap = await snapshots.load('o-snap');
      expect(snap?.version).toBe(5);
      await repo.update('o-snap', (x) => x.markShipped('s1', 'TRL', at));
      const loaded = await repo.load('o-snap');
      expect(loaded.version).toBe(6);
      expect(loaded.state).toEqual(
        OrderAggregate.fromEvents(await repo.events.getEvents('o-snap'), 'o-snap').state,
      );
      const [first] = await repo.events.getEvents('o-snap');
      expect(first?.metadata).toMatchObject({ correlationId: 'corr', userId: 'c1' });
    });

    it('rejects a payload that fails its schema, writing nothing', async () => {
      await expect(
        repo.events.append('bad', [{ eventType: 'ItemAdded', payload: { productId: 'p', quantity: -1 } }]),
      ).rejects.toSatisfy(isValidationError);
      expect(await repo.events.streamVersion('bad')).toBe(0);
    });
  });
});

function capture(fn: () => void): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
