import { isConflictError, isValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../memory-event-store.js';
import { OrderAggregate, orderEvents } from './order-aggregate.js';

// The seed's "Unit Test Template" Event Sourcing test, verbatim apart from the imports.
describe('Scaling Patterns', () => {
  describe('Event Sourcing', () => {
    it('should rebuild state from events', async () => {
      const events = [
        { eventType: 'ItemAdded', payload: { productId: '1', quantity: 2 } },
        { eventType: 'ItemAdded', payload: { productId: '2', quantity: 1 } },
        { eventType: 'OrderSubmitted', payload: {} },
      ];

      const aggregate = OrderAggregate.fromEvents(events);

      expect(aggregate.state.items).toHaveLength(2);
      expect(aggregate.state.status).toBe('submitted');
    });
  });
});

describe('OrderAggregate (example)', () => {
  it('counts versions when events carry none and uses stored versions when they do', () => {
    const a = OrderAggregate.fromEvents([
      { eventType: 'ItemAdded', payload: { productId: '1', quantity: 1 } },
    ]);
    expect([a.version, a.persistedVersion]).toEqual([1, 1]);
    const b = OrderAggregate.fromEvents([
      { eventType: 'ItemAdded', payload: { productId: '1', quantity: 1 }, version: 7 },
    ]);
    expect(b.version).toBe(7);
  });

  it('validates commands before raising anything', () => {
    const order = new OrderAggregate('o-1');
    expect(isConflictError(captured(() => order.submit()))).toBe(true);
    expect(isValidationError(captured(() => order.addItem('p', 0)))).toBe(true);
    order.addItem('p', 1);
    order.submit();
    expect(isConflictError(captured(() => order.addItem('p', 1)))).toBe(true);
    expect(isConflictError(captured(() => order.submit()))).toBe(true);
    expect(order.getUncommittedEvents()).toEqual([
      { eventType: 'ItemAdded', payload: { productId: 'p', quantity: 1 } },
      { eventType: 'OrderSubmitted', payload: {} },
    ]);
    expect(order.version).toBe(2);
    expect(order.persistedVersion).toBe(0);
  });

  it('loads like the seed: OrderAggregate.load(store, id), validated by the registry on save', async () => {
    const store = new InMemoryEventStore({ registry: orderEvents });
    const order = await OrderAggregate.load(store, 'o-1');
    order.addItem('p1', 3);
    await order.save(store);
    const again = await OrderAggregate.load(store, 'o-1');
    expect(again.state).toEqual({ status: 'draft', items: [{ productId: 'p1', quantity: 3 }] });
    expect(orderEvents.jsonSchemas().ItemAdded).toMatchObject({
      type: 'object',
      required: ['productId', 'quantity'],
    });
  });
});

function captured(fn: () => void): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
