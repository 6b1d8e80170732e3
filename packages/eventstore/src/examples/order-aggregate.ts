import { ConflictError, ValidationError } from '@trellis/core';
import { z } from 'zod';
import { Aggregate } from '../aggregate.js';
import type { EventLike } from '../domain-event.js';
import { defineEvents } from '../event-registry.js';

/** Payload schemas of the example order's events (validated on append). */
export const orderEvents = defineEvents({
  ItemAdded: z.object({ productId: z.string().min(1), quantity: z.number().int().positive() }),
  OrderSubmitted: z.object({}),
});

/** The example order's events. */
export type OrderEvent =
  | EventLike<'ItemAdded', { productId: string; quantity: number }>
  | EventLike<'OrderSubmitted', Record<string, never>>;

/** The example order's state (the seed's `OrderState`). */
export interface OrderState {
  status: 'draft' | 'submitted';
  items: Array<{ productId: string; quantity: number }>;
}

/**
 * The seed's `OrderAggregate`, written on the {@link Aggregate} base: commands validate and
 * raise events, `when` evolves state, and `fromEvents` / `load` come from the base.
 *
 * @example
 * ```ts
 * const order = await OrderAggregate.load(store, 'order-1');
 * order.addItem('p1', 2);
 * order.submit();
 * await order.save(store);
 * ```
 */
export class OrderAggregate extends Aggregate<OrderEvent> {
  static readonly aggregateType = 'Order';
  static readonly snapshotEvery = 100;
  static readonly snapshotVersion = 1;

  state: OrderState = { status: 'draft', items: [] };

  /** Throws `ValidationError` for a bad quantity, `ConflictError` once submitted. */
  addItem(productId: string, quantity: number): void {
    if (!Number.isInteger(quantity) || quantity <= 0) {
      throw new ValidationError('quantity must be a positive integer', [
        { path: 'quantity', message: 'Expected a positive integer' },
      ]);
    }
    if (this.state.status !== 'draft') throw new ConflictError('Cannot add items to a submitted order');
    this.raise('ItemAdded', { productId, quantity });
  }

  /** Throws `ConflictError` for an empty or already submitted order. */
  submit(): void {
    if (this.state.items.length === 0) throw new ConflictError('Cannot submit empty order');
    if (this.state.status === 'submitted') throw new ConflictError('Order already submitted');
    this.raise('OrderSubmitted', {});
  }

  protected when(event: OrderEvent): void {
    switch (event.eventType) {
      case 'ItemAdded':
        this.state.items.push({ ...event.payload });
        break;
      case 'OrderSubmitted':
        this.state.status = 'submitted';
        break;
    }
  }
}
