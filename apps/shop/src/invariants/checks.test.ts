import { describe, expect, it } from 'vitest';
import { DEMO_ADDRESS } from '../demo-data.js';
import { OrderAggregate } from '../services/orders/order-aggregate.js';
import { checkFacts, type InvariantName } from './checks.js';
import { ORDER_EVENT_GROUPS, type OrderFact, type ShopFacts } from './shop-facts.js';

const at = '2026-01-01T00:00:00.000Z';

/** A shipped order and everything the other services hold for it: a consistent shop. */
function consistentShop(): ShopFacts {
  const o = new OrderAggregate('o1');
  o.create('c1', DEMO_ADDRESS, at);
  o.addItem({ productId: 'p', name: 'P', quantity: 2, unitPriceCents: 500 }, at);
  o.submit('pm_card_visa', at);
  o.markPaid('pay1', 1000, at);
  o.markShipped('s1', 'TRL', at);
  const events = o.getUncommittedEvents().map((e, i) => ({ id: `e${i}`, type: e.eventType }));
  const order: OrderFact = { id: 'o1', state: o.state, version: o.version, events };
  return {
    orders: new Map([['o1', order]]),
    sagas: new Map([['order-o1', { id: 'order-o1', status: 'completed', error: null }]]),
    readModel: new Map([['o1', { status: 'shipped', version: 5 }]]),
    charges: [
      {
        key: 'order-o1/chargePayment',
        orderId: 'o1',
        status: 'succeeded',
        amountCents: 1000,
        refundedCents: 0,
      },
    ],
    ledger: [{ key: 'order-o1/chargePayment', kind: 'charge', orderId: 'o1', amountCents: 1000 }],
    stock: [{ productId: 'p', available: 8, reserved: 0, shipped: 2, initial: 10 }],
    reservations: [
      {
        key: 'order-o1/reserveInventory',
        orderId: 'o1',
        status: 'committed',
        items: [{ productId: 'p', quantity: 2 }],
      },
    ],
    shipments: [{ key: 'order-o1/createShipment', orderId: 'o1', status: 'created' }],
    notifiedEventIds: new Set(
      events.filter((e) => ['OrderSubmitted', 'OrderPaid', 'OrderShipped'].includes(e.type)).map((e) => e.id),
    ),
    inbox: new Map(ORDER_EVENT_GROUPS.map(({ group }) => [group, new Set(events.map((e) => e.id))])),
    outboxBacklog: 0,
    deadLetters: [],
  };
}

/** A dead letter of `group` for message `messageId`. */
function deadLetter(group: string, messageId: string): ShopFacts['deadLetters'][number] {
  return { service: 'notifications', group, topic: 'order.paid', error: 'boom', messageId };
}

/** Runs a mutation that does not change the expected order ids. */
function set(mutate: () => unknown): undefined {
  mutate();
  return undefined;
}

const broken = (f: ShopFacts, expected: string[] = []) =>
  new Set(checkFacts(f, expected).map((v) => v.invariant));

describe('invariant checks', () => {
  it('pass on a consistent shop', () => {
    expect(checkFacts(consistentShop(), ['o1'])).toEqual([]);
  });

  // Each breaks one thing; the second element returns the expected order ids when it changes them.
  const mutations: Array<[InvariantName, (f: ShopFacts) => string[] | undefined]> = [
    ['order-not-lost', () => ['o-missing']],
    [
      'saga-terminal',
      (f) => set(() => f.sagas.set('order-o1', { id: 'order-o1', status: 'running', error: null })),
    ],
    ['saga-terminal', (f) => set(() => f.sagas.clear())],
    [
      'order-matches-saga',
      (f) => set(() => f.sagas.set('order-o1', { id: 'order-o1', status: 'compensated', error: null })),
    ],
    ['read-model-consistent', (f) => set(() => f.readModel.set('o1', { status: 'paid', version: 4 }))],
    ['read-model-consistent', (f) => set(() => f.readModel.clear())],
    [
      'no-double-charge',
      (f) => set(() => f.ledger.push({ key: 'other', kind: 'charge', orderId: 'o1', amountCents: 1000 })),
    ],
    [
      'charge-matches-order',
      (f) => set(() => f.ledger.push({ key: 'r', kind: 'refund', orderId: 'o1', amountCents: 1000 })),
    ],
    [
      'payments-match-processor',
      (f) =>
        set(() =>
          f.charges.splice(0, 1, { ...(f.charges[0] as ShopFacts['charges'][number]), refundedCents: 1 }),
        ),
    ],
    [
      'stock-conserved',
      (f) => set(() => f.stock.splice(0, 1, { ...(f.stock[0] as ShopFacts['stock'][number]), available: 7 })),
    ],
    [
      'stock-conserved',
      (f) =>
        set(() =>
          f.reservations.push({
            key: 'x',
            orderId: 'o2',
            status: 'reserved',
            items: [{ productId: 'p', quantity: 1 }],
          }),
        ),
    ],
    [
      'reservation-matches-order',
      (f) =>
        set(() =>
          f.reservations.splice(0, 1, {
            ...(f.reservations[0] as ShopFacts['reservations'][number]),
            status: 'reserved',
          }),
        ),
    ],
    [
      'shipment-matches-order',
      (f) => set(() => f.shipments.push({ key: 'again', orderId: 'o1', status: 'created' })),
    ],
    ['events-delivered', (f) => set(() => f.notifiedEventIds.clear())],
    ['outbox-drained', (f) => set(() => Object.assign(f, { outboxBacklog: 3 }))],
    ['no-dead-letters', (f) => set(() => f.deadLetters.push(deadLetter('notifications', 'e2')))],
    ['inbox-matches-log', (f) => set(() => f.inbox.get('notifications')?.delete('e3'))],
    ['inbox-matches-log', (f) => set(() => f.inbox.get('orders-read-model')?.add('phantom'))],
    ['dead-letters-accounted', (f) => set(() => f.deadLetters.push(deadLetter('notifications', 'ghost')))],
    ['dead-letters-accounted', (f) => set(() => f.deadLetters.push(deadLetter('notifications', 'e2')))],
    [
      'dead-letters-accounted',
      (f) => set(() => f.deadLetters.push(deadLetter('saga-place-order', 'order-o9@4'))),
    ],
  ];

  it.each(mutations)('%s catches a broken shop', (invariant, mutate) => {
    const facts = consistentShop();
    const expected = mutate(facts) ?? ['o1'];
    expect(broken(facts, expected)).toContain(invariant);
  });

  it("counts an event parked in its group's dead letters as accounted for, not lost", () => {
    const f = consistentShop();
    f.inbox.get('notifications')?.delete('e2');
    f.deadLetters.push(deadLetter('notifications', 'e2'));
    f.deadLetters.push(deadLetter('saga-place-order', 'order-o1@7'));
    expect([...broken(f, ['o1'])]).toEqual(['no-dead-letters']);
  });

  it('requires a cancelled order to be charged nothing, its stock released and no live shipment', () => {
    const f = consistentShop();
    const order = f.orders.get('o1') as OrderFact;
    order.state = { ...order.state, status: 'cancelled' };
    f.sagas.set('order-o1', { id: 'order-o1', status: 'compensated', error: null });
    f.readModel.set('o1', { status: 'cancelled', version: order.version });
    const found = broken(f, ['o1']);
    expect(found).toContain('charge-matches-order');
    expect(found).toContain('reservation-matches-order');
    expect(found).toContain('shipment-matches-order');
  });
});
