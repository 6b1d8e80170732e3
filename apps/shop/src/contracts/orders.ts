/**
 * The orders service's HTTP contract. Placing an order runs the place-order saga; reads of
 * one order come from its event stream (always current), listings from the CQRS read model
 * (updated through the bus, so a moment behind).
 */
import { endpoint } from '@trellis/service';
import { z } from 'zod';
import { adminOnly } from '../platform/identity.js';
import { Address, cents, currency, id, page, pageQuery } from './common.js';

/** An order's lifecycle: draft → submitted → paid → shipped, or cancelled. */
export const OrderStatus = z.enum(['draft', 'submitted', 'paid', 'shipped', 'cancelled']);
/** An order's lifecycle state. */
export type OrderStatus = z.output<typeof OrderStatus>;

/** One line of an order, priced by the catalog when the order was placed. */
export const OrderLine = z.object({
  productId: id,
  name: z.string(),
  quantity: z.number().int(),
  unitPriceCents: cents,
});

/** An order. */
export const Order = z.object({
  id,
  customerId: id,
  status: OrderStatus,
  items: z.array(OrderLine),
  totalCents: cents,
  currency,
  shippingAddress: Address.nullable(),
  paymentId: z.string().nullable(),
  shipmentId: z.string().nullable(),
  trackingNumber: z.string().nullable(),
  cancelReason: z.string().nullable(),
  /** When the customer asked to cancel (the saga then winds the order back), if they did. */
  cancelRequestedAt: z.string().nullable().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});
/** An order. */
export type Order = z.output<typeof Order>;

/** A row of the read model (listings and search). */
export const OrderSummary = z.object({
  id,
  customerId: id,
  status: OrderStatus,
  totalCents: cents,
  itemCount: z.number().int(),
  productNames: z.string(),
  trackingNumber: z.string().nullable(),
  cancelReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The body of `POST /orders`. */
export const PlaceOrderBody = z.object({
  items: z
    .array(z.object({ productId: id, quantity: z.number().int().min(1).max(100) }))
    .min(1)
    .max(20),
  shippingAddress: Address,
  /** A saved payment method id, or a test method: `pm_card_visa`, `pm_card_declined`, … */
  paymentMethod: z.string().min(1).max(100),
});

/** The orders service's endpoints. */
export const ordersApi = {
  placeOrder: endpoint({
    method: 'POST',
    path: '/orders',
    summary: 'Place an order: reserve stock, charge, ship (a saga). 201 when finished, 202 while running',
    description:
      'Send an `Idempotency-Key` header to make retries safe: the same key always yields the same order.',
    tags: ['orders'],
    body: PlaceOrderBody,
    response: Order,
    status: 201,
    errors: { 409: 'Out of stock', 422: 'Unknown product' },
    auth: 'authenticated',
  }),
  getOrder: endpoint({
    method: 'GET',
    path: '/orders/:id',
    summary: 'One of the caller’s orders (admins: any)',
    tags: ['orders'],
    params: z.object({ id }),
    response: Order,
    errors: { 404: 'No such order (or not yours)' },
    auth: 'authenticated',
  }),
  listOrders: endpoint({
    method: 'GET',
    path: '/orders',
    summary: 'The caller’s orders, newest first, with status filter and search (admins: all)',
    tags: ['orders'],
    query: z.object({
      status: OrderStatus.optional(),
      q: z.string().trim().max(100).optional(),
      customerId: id.optional(),
      ...pageQuery,
    }),
    response: page(OrderSummary),
    auth: 'authenticated',
  }),
  cancelOrder: endpoint({
    method: 'POST',
    path: '/orders/:id/cancel',
    summary: 'Cancel one of the caller’s orders (admins: any) before it ships',
    description:
      'The request is recorded at once; the place-order saga stops before its next step and compensates (refund, stock released, shipment cancelled). 200 when the order is cancelled, 202 while the saga is still winding back; repeating it is harmless.',
    tags: ['orders'],
    params: z.object({ id }),
    body: z.object({ reason: z.string().trim().max(200).optional() }),
    response: Order,
    errors: { 404: 'No such order (or not yours)', 409: 'The order has already shipped' },
    auth: 'authenticated',
  }),
  getOrderEvents: endpoint({
    method: 'GET',
    path: '/orders/:id/events',
    summary: 'The order’s event stream (admin)',
    tags: ['orders'],
    params: z.object({ id }),
    response: z.object({
      events: z.array(
        z.object({
          id: z.string(),
          eventType: z.string(),
          version: z.number().int(),
          position: z.number().int(),
          timestamp: z.string(),
          payload: z.unknown(),
        }),
      ),
    }),
    auth: adminOnly,
  }),
};
