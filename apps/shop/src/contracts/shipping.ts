/**
 * The shipping service's HTTP contract: the saga creates and cancels shipments by key;
 * admins list them.
 */
import { endpoint } from '@trellis/service';
import { z } from 'zod';
import { serviceOnly, serviceOrAdmin } from '../platform/identity.js';
import { Address, id } from './common.js';

/** A shipment. */
export const Shipment = z.object({
  id,
  key: z.string(),
  orderId: z.string().nullable(),
  status: z.enum(['created', 'cancelled']),
  carrier: z.string(),
  trackingNumber: z.string().nullable(),
  address: Address.nullable(),
  createdAt: z.string(),
});
/** A shipment. */
export type Shipment = z.output<typeof Shipment>;

/** The shipping service's endpoints. */
export const shippingApi = {
  createShipment: endpoint({
    method: 'POST',
    path: '/shipments',
    summary: 'Create a shipment (Idempotency-Key required: the shipment key)',
    tags: ['shipments'],
    body: z.object({
      orderId: id,
      address: Address,
      items: z.array(z.object({ productId: id, quantity: z.number().int().min(1) })).min(1),
    }),
    response: Shipment,
    status: 201,
    errors: { 409: 'This key was cancelled before it was used' },
    auth: serviceOnly,
  }),
  cancelShipment: endpoint({
    method: 'POST',
    path: '/shipments/cancel',
    summary: 'Cancel the shipment created with `key` (idempotent; a tombstone when none exists yet)',
    tags: ['shipments'],
    body: z.object({ key: z.string().min(1).max(255) }),
    response: Shipment,
    auth: serviceOnly,
  }),
  listShipments: endpoint({
    method: 'GET',
    path: '/shipments',
    summary: 'Shipments, newest first, optionally of one order',
    tags: ['shipments'],
    query: z.object({
      orderId: id.optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    response: z.object({ items: z.array(Shipment) }),
    auth: serviceOrAdmin,
  }),
};
