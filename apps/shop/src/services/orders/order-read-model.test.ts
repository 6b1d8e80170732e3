import type { Message } from '@trellis/messaging';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempSqlite } from '../../testing/temp-sqlite.js';
import { OrderReadModel } from './order-read-model.js';

let t: ReturnType<typeof tempSqlite>;
let model: OrderReadModel;

beforeEach(async () => {
  t = tempSqlite();
  model = new OrderReadModel(t.db);
  await model.setup();
});
afterEach(() => t.cleanup());

let seq = 0;
function message(
  orderId: string,
  version: number,
  eventType: string,
  payload: Record<string, unknown>,
): Message<Record<string, unknown>> {
  return {
    id: `m${seq++}`,
    topic: 'order.x',
    key: orderId,
    headers: { eventType, version: String(version), aggregateId: orderId },
    payload: { orderId, at: `2026-01-01T00:00:0${version}.000Z`, ...payload },
    publishedAt: 0,
    deliveredAt: 0,
    attempt: 1,
  };
}

const apply = (m: Message<Record<string, unknown>>) => t.db.transaction((tx) => model.apply(m, tx));

function lifecycle(id: string, customerId: string, name: string) {
  return [
    message(id, 1, 'OrderCreated', { customerId }),
    message(id, 2, 'ItemAdded', { quantity: 2, name }),
    message(id, 3, 'OrderSubmitted', { totalCents: 500 }),
    message(id, 4, 'OrderPaid', {}),
    message(id, 5, 'OrderShipped', { trackingNumber: 'TRL1' }),
  ];
}

describe('OrderReadModel', () => {
  it('follows an order through its lifecycle', async () => {
    for (const m of lifecycle('o1', 'c1', 'Mug')) await apply(m);
    expect(await model.get('o1')).toMatchObject({
      status: 'shipped',
      totalCents: 500,
      itemCount: 2,
      productNames: 'Mug',
      trackingNumber: 'TRL1',
      version: 5,
    });
  });

  it('ignores a redelivered or replayed event (version guard)', async () => {
    const events = lifecycle('o1', 'c1', 'Mug');
    for (const m of events) await apply(m);
    await apply(events[1] as Message<Record<string, unknown>>);
    await apply(message('o1', 3, 'OrderCancelled', { reason: 'stale' }));
    expect(await model.get('o1')).toMatchObject({ status: 'shipped', itemCount: 2, cancelReason: null });
  });

  it('lists a customer’s orders newest first, filters by status, searches names, and pages', async () => {
    for (let i = 0; i < 5; i++) {
      await apply({
        ...message(`o${i}`, 1, 'OrderCreated', { customerId: 'c1' }),
        payload: { orderId: `o${i}`, customerId: 'c1', at: `2026-01-0${i + 1}T00:00:00.000Z` },
      });
      await apply(message(`o${i}`, 2, 'ItemAdded', { quantity: 1, name: i % 2 ? 'Kettle' : 'Mug 100%' }));
    }
    await apply(message('other', 1, 'OrderCreated', { customerId: 'c2' }));
    await apply(message('o4', 3, 'OrderCancelled', { reason: 'x' }));
    const first = await model.list({ customerId: 'c1', limit: 2 });
    expect(first.items.map((o) => o.id)).toEqual(['o4', 'o3']);
    const second = await model.list({ customerId: 'c1', limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second.items.map((o) => o.id)).toEqual(['o2', 'o1']);
    expect(
      (await model.list({ customerId: 'c1', status: 'cancelled', limit: 10 })).items.map((o) => o.id),
    ).toEqual(['o4']);
    expect((await model.list({ customerId: 'c1', q: 'kettle', limit: 10 })).items.map((o) => o.id)).toEqual([
      'o3',
      'o1',
    ]);
    // LIKE wildcards in the search text are matched literally.
    expect((await model.list({ customerId: 'c1', q: '100%', limit: 10 })).items).toHaveLength(3);
    expect((await model.list({ customerId: 'c1', q: '%', limit: 10 })).items).toHaveLength(3);
  });

  it('folds the stream from the event store when an earlier event is missing (dead-lettered), so its late replay changes nothing', async () => {
    // Found by the chaos harness: PostgreSQL killed while OrderCreated was being handled put it in
    // the dead letters, the order's later events went through first and updated no row, and the
    // replayed OrderCreated left the read model at "draft v1" while the order was cancelled (v5).
    const stream = [
      ...lifecycle('o1', 'c1', 'Mug').slice(0, 4),
      message('o1', 5, 'OrderCancelled', { reason: 'payment declined' }),
    ];
    const reads: string[] = [];
    const folding = new OrderReadModel(t.db, async (id) => {
      reads.push(id);
      return stream.map((m) => ({
        version: Number(m.headers.version),
        eventType: String(m.headers.eventType),
        payload: m.payload,
      }));
    });
    const applyWith = (m: Message<Record<string, unknown>>) => t.db.transaction((tx) => folding.apply(m, tx));
    const at = (i: number) => stream[i] as Message<Record<string, unknown>>;
    const [created, added, submitted, paid, cancelled] = [at(0), at(1), at(2), at(3), at(4)];
    // OrderCreated is missing: the next event rebuilds the row from the stream up to itself.
    await applyWith(added);
    expect(await folding.get('o1')).toMatchObject({ status: 'draft', itemCount: 2, version: 2 });
    await applyWith(submitted);
    // A gap in the middle (OrderPaid missing): folded from the stream again.
    await applyWith(cancelled);
    expect(await folding.get('o1')).toMatchObject({
      status: 'cancelled',
      totalCents: 500,
      itemCount: 2,
      productNames: 'Mug',
      cancelReason: 'payment declined',
      version: 5,
    });
    expect(reads).toEqual(['o1', 'o1']);
    // The dead letters replayed late: nothing changes.
    await applyWith(created);
    await applyWith(paid);
    expect(await folding.get('o1')).toMatchObject({ status: 'cancelled', version: 5, itemCount: 2 });
    expect(reads).toEqual(['o1', 'o1']);
  });
});
