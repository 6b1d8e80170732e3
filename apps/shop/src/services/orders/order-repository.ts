/**
 * Loading and saving orders: snapshots on, events validated by the registry, metadata
 * (correlation id, user id) on every event so the outbox puts it in the message headers.
 */
import type { SqlTransaction } from '@trellis/core';
import { type EventStore, isConcurrencyError, type SnapshotStore } from '@trellis/eventstore';
import { currentTraceparent } from '@trellis/service';
import { OrderAggregate } from './order-aggregate.js';

/** Orders on an event store. */
export class OrderRepository {
  constructor(
    readonly events: EventStore,
    readonly snapshots: SnapshotStore,
  ) {}

  /** Loads an order (a new, empty aggregate when the stream does not exist). */
  load(id: string, tx?: SqlTransaction): Promise<OrderAggregate> {
    return OrderAggregate.load(this.events, id, { snapshots: this.snapshots, ...(tx ? { tx } : {}) });
  }

  /** Appends the order's new events (with a snapshot when one is due). */
  async save(
    order: OrderAggregate,
    metadata: { correlationId?: string },
    tx?: SqlTransaction,
  ): Promise<void> {
    // The active trace (a saga step's span) rides along to the bus, so consumers join it.
    const traceparent = currentTraceparent();
    await order.save(this.events, {
      snapshots: this.snapshots,
      metadata: {
        userId: order.state.customerId ?? undefined,
        ...(traceparent ? { traceparent } : {}),
        ...metadata,
      },
      ...(tx ? { tx } : {}),
    });
  }

  /**
   * Loads, applies `command`, saves; retries when another writer got in between (the saga is
   * the only writer after submission, so this is rare). Returns the order as saved.
   */
  async update(
    id: string,
    command: (order: OrderAggregate) => void,
    metadata: { correlationId?: string } = {},
  ): Promise<OrderAggregate> {
    for (let attempt = 1; ; attempt++) {
      const order = await this.load(id);
      command(order);
      if (order.getUncommittedEvents().length === 0) return order;
      try {
        await this.save(order, metadata);
        return order;
      } catch (error) {
        if (!isConcurrencyError(error) || attempt >= 5) throw error;
      }
    }
  }
}
