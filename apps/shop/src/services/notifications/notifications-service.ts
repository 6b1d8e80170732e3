/**
 * The notifications service: a choreography consumer. It reacts to order lifecycle events on
 * the bus (consumer group `notifications`, through the inbox, so each event notifies once)
 * and keeps the customer's notifications; nobody calls it to send one. It relays its outbox,
 * which is where replayed dead letters go.
 */
import { UnauthorizedError } from '@trellis/core';
import { type Message, withInbox } from '@trellis/messaging';
import { tracedHandler } from '@trellis/ops';
import { route, type Service } from '@trellis/service';
import { notificationsApi } from '../../contracts/notifications.js';
import { createShopService, type ShopContext } from '../../platform/shop-service.js';
import { NotificationsStore } from './notifications-store.js';

/** Consumer group of the notifications service. */
export const NOTIFICATIONS_GROUP = 'notifications';

/** The lifecycle events that notify the customer, and what they say. */
export const NOTIFIED_EVENTS: Record<string, (p: Record<string, unknown>) => string> = {
  OrderSubmitted: (p) => `We received your order ${p.orderId} (${formatCents(p.totalCents)}).`,
  OrderPaid: (p) => `Payment of ${formatCents(p.amountCents)} for order ${p.orderId} succeeded.`,
  OrderShipped: (p) => `Order ${p.orderId} is on its way (tracking ${p.trackingNumber ?? 'n/a'}).`,
  PaymentRefunded: (p) => `We refunded ${formatCents(p.amountCents)} for order ${p.orderId}.`,
  OrderCancelled: (p) => `Order ${p.orderId} was cancelled: ${p.reason}.`,
};

function formatCents(value: unknown): string {
  return `€${(Number(value) / 100).toFixed(2)}`;
}

/** Builds the notifications service. */
export async function build(ctx: ShopContext): Promise<Service> {
  const store = await NotificationsStore.create(ctx.backend.db, ctx.clock);
  const inbox = await ctx.backend.inbox();
  const { bus, deadLetters } = await ctx.bus();
  const routes = [
    route(notificationsApi.listNotifications, async ({ query, ctx: rc }) => {
      if (rc.identity?.kind !== 'user') throw new UnauthorizedError('A user identity is required');
      return { items: await store.of(rc.identity.subject, query.orderId, query.limit) };
    }),
  ];
  const service = await createShopService(ctx, routes);
  ctx.ops.provideDeadLetters(deadLetters);
  // Fault switches and consumer spans for the console.
  const handler = <P>(h: import('@trellis/messaging').MessageHandler<P>) =>
    ctx.ops.faults.wrap(NOTIFICATIONS_GROUP, tracedHandler(service.tracing, NOTIFICATIONS_GROUP, h));
  const subscription = await bus.subscribe<Record<string, unknown>>(
    'order.*',
    handler(
      withInbox(inbox, async (message: Message<Record<string, unknown>>, tx) => {
        const eventType = message.headers.eventType ?? '';
        const text = NOTIFIED_EVENTS[eventType];
        const userId = message.headers.userId;
        const orderId = message.headers.aggregateId ?? message.key;
        if (!text || !userId || !orderId) return;
        await store.add(tx, {
          eventId: message.id,
          userId,
          orderId,
          kind: eventType,
          message: text({ orderId, ...message.payload }),
        });
      }),
    ),
    { group: NOTIFICATIONS_GROUP, concurrency: 16, from: 'all' },
  );
  // Replaying a dead letter writes it back into this database's outbox (in distributed mode
  // the dead letters live here), so this service publishes its outbox like any event writer.
  const { startRelay } = await ctx.backend.outbox();
  const relay = startRelay(bus, {
    onError: (error) => ctx.logger.warn({ err: error }, 'outbox relay batch failed'),
  });
  ctx.metrics.outboxBacklog(() => relay.backlog());
  service.onFlush('outbox', () => relay.flush());
  service.onClose('outbox relay', () => relay.stop());
  service.onClose('notifications consumer', () => subscription.close());
  return service;
}
