/**
 * The order's events: payload schemas (validated on every append), and the topic each is
 * published under through the outbox. Every payload carries `at`, the ISO time of the fact,
 * so replays and snapshots reproduce the same timestamps.
 */
import { defineEvents, type EventLike } from '@trellis/eventstore';
import { z } from 'zod';
import { Address } from '../../contracts/common.js';

const at = z.string().min(1);

/** Payload schemas of the order's events. */
export const orderEvents = defineEvents({
  OrderCreated: z.object({
    customerId: z.string().min(1),
    currency: z.literal('EUR'),
    shippingAddress: Address,
    at,
  }),
  ItemAdded: z.object({
    productId: z.string().min(1),
    name: z.string(),
    quantity: z.number().int().positive(),
    unitPriceCents: z.number().int().min(0),
    at,
  }),
  OrderSubmitted: z.object({ totalCents: z.number().int().min(0), paymentMethod: z.string().min(1), at }),
  OrderPaid: z.object({ paymentId: z.string().min(1), amountCents: z.number().int().min(0), at }),
  OrderShipped: z.object({ shipmentId: z.string().min(1), trackingNumber: z.string().nullable(), at }),
  PaymentRefunded: z.object({ paymentId: z.string().min(1), amountCents: z.number().int().min(0), at }),
  OrderCancelled: z.object({ reason: z.string(), code: z.string(), at }),
  /** The customer asked to cancel; the saga stops before its next step and compensates. */
  OrderCancellationRequested: z.object({ reason: z.string(), at }),
});

/** An order event (type and payload). */
export type OrderEvent =
  | EventLike<
      'OrderCreated',
      { customerId: string; currency: 'EUR'; shippingAddress: z.output<typeof Address>; at: string }
    >
  | EventLike<
      'ItemAdded',
      { productId: string; name: string; quantity: number; unitPriceCents: number; at: string }
    >
  | EventLike<'OrderSubmitted', { totalCents: number; paymentMethod: string; at: string }>
  | EventLike<'OrderPaid', { paymentId: string; amountCents: number; at: string }>
  | EventLike<'OrderShipped', { shipmentId: string; trackingNumber: string | null; at: string }>
  | EventLike<'PaymentRefunded', { paymentId: string; amountCents: number; at: string }>
  | EventLike<'OrderCancelled', { reason: string; code: string; at: string }>
  | EventLike<'OrderCancellationRequested', { reason: string; at: string }>;

/** Bus topic of each event type. */
export const ORDER_TOPICS: Record<OrderEvent['eventType'], string> = {
  OrderCreated: 'order.created',
  ItemAdded: 'order.item-added',
  OrderSubmitted: 'order.submitted',
  OrderPaid: 'order.paid',
  OrderShipped: 'order.shipped',
  PaymentRefunded: 'order.refunded',
  OrderCancelled: 'order.cancelled',
  OrderCancellationRequested: 'order.cancellation-requested',
};

/** The topic of an event type (`order.<type>` for types this table does not know). */
export function orderTopic(eventType: string): string {
  return ORDER_TOPICS[eventType as OrderEvent['eventType']] ?? `order.${eventType.toLowerCase()}`;
}
