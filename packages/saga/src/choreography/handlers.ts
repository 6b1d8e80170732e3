/**
 * Declarative event handlers for choreography: each service says "on `order.created`, do
 * this", and the handlers run on the bus as a consumer group, effectively once (inbox), with
 * whatever they publish leaving through the outbox in the same transaction.
 */
import type { SqlTransaction } from '@trellis/core';
import {
  type Bus,
  type Inbox,
  type Outbox,
  type RetryOptions,
  type Subscription,
  withInbox,
} from '@trellis/messaging';
import { type ChoreographyContext, choreographyContext } from './context.js';
import type { EventCatalog, EventsOf, TopicOf } from './events.js';

/** A handler of topic `K`: gets the parsed payload and the context. */
export type ChoreographyHandler<C extends EventCatalog, K extends TopicOf<C>, Tx = SqlTransaction> = (
  event: EventsOf<C>[K],
  ctx: ChoreographyContext<C, Tx>,
) => unknown;

/** Where the handlers run. */
export interface ChoreographyWiring<Tx = SqlTransaction> {
  bus: Bus;
  /** Makes each delivery effectively-once; its transaction is the handler's `ctx.tx`. */
  inbox: Inbox<Tx>;
  /** Where `ctx.publish` writes, in the same transaction. */
  outbox: Outbox<Tx>;
  /** The consumer group (the service's name). */
  group: string;
  concurrency?: number;
  retry?: RetryOptions;
}

/**
 * A service's handlers, typed by the event catalog.
 *
 * @example
 * ```ts
 * const orders = eventHandlers(shopEvents)
 *   .on('order.created', (e, ctx) => ctx.publish('payment.requested', { orderId: e.orderId, amount: e.total }, { key: e.orderId }))
 *   .on('payment.failed', async (e, ctx) => {
 *     await ctx.tx.execute("UPDATE orders SET status = 'cancelled' WHERE id = $1", [e.orderId]);
 *     await ctx.publish('order.cancelled', { orderId: e.orderId }, { key: e.orderId });
 *   });
 * await orders.subscribe({ bus, inbox, outbox, group: 'orders' });
 * ```
 */
export class EventHandlers<C extends EventCatalog, Tx = SqlTransaction> {
  private readonly byTopic = new Map<string, Array<ChoreographyHandler<C, TopicOf<C>, Tx>>>();

  constructor(readonly catalog: C) {}

  /** Adds a handler for `topic` (several handlers of one topic run in order, in one transaction). */
  on<K extends TopicOf<C>>(topic: K, handler: ChoreographyHandler<C, K, Tx>): this {
    const list = this.byTopic.get(topic) ?? [];
    list.push(handler as ChoreographyHandler<C, TopicOf<C>, Tx>);
    this.byTopic.set(topic, list);
    return this;
  }

  /** The topics with handlers. */
  topics(): string[] {
    return [...this.byTopic.keys()];
  }

  /**
   * Subscribes one consumer per topic in `group`. Payloads are validated by the catalog's
   * schemas before a handler runs (a bad one is dead-lettered); a throwing handler rolls its
   * transaction back and the bus retries, then dead-letters.
   */
  async subscribe(wiring: ChoreographyWiring<Tx>): Promise<Subscription[]> {
    const subscriptions: Subscription[] = [];
    for (const [topic, handlers] of this.byTopic) {
      const schema = this.catalog[topic];
      const run = withInbox<unknown, Tx>(wiring.inbox, async (message, tx, hctx) => {
        const ctx = choreographyContext(this.catalog, wiring.outbox, tx, message, hctx.signal);
        for (const handler of handlers) await handler(message.payload as EventsOf<C>[TopicOf<C>], ctx);
      });
      subscriptions.push(
        await wiring.bus.subscribe(topic, run, {
          group: wiring.group,
          ...(schema ? { schema } : {}),
          ...(wiring.concurrency === undefined ? {} : { concurrency: wiring.concurrency }),
          ...(wiring.retry === undefined ? {} : { retry: wiring.retry }),
        }),
      );
    }
    return subscriptions;
  }
}

/** Starts a set of handlers over `catalog`. */
export function eventHandlers<C extends EventCatalog, Tx = SqlTransaction>(catalog: C): EventHandlers<C, Tx> {
  return new EventHandlers<C, Tx>(catalog);
}
