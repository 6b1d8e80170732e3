/**
 * The inventory service's HTTP contract: public stock levels, admin restocking, and the
 * reservation protocol the place-order saga drives (reserve → commit, or release), every
 * step idempotent by key.
 */
import { endpoint } from '@trellis/service';
import { z } from 'zod';
import { adminOnly, serviceOnly } from '../platform/identity.js';
import { id } from './common.js';

/** Stock of one product. `initial` counts every unit ever added. */
export const StockLevel = z.object({
  productId: id,
  available: z.number().int(),
  reserved: z.number().int(),
  shipped: z.number().int(),
  initial: z.number().int(),
});
/** Stock of one product. */
export type StockLevel = z.output<typeof StockLevel>;

/** Requested quantities (at most 20 lines). */
export const ReservationItems = z
  .array(z.object({ productId: id, quantity: z.number().int().min(1).max(1000) }))
  .min(1)
  .max(20);

/** A reservation's state: `released` also marks a key whose release came first (a tombstone). */
export const ReservationStatus = z.enum(['reserved', 'committed', 'released']);

/** A reservation. */
export const Reservation = z.object({
  id,
  key: z.string(),
  orderId: z.string().nullable(),
  status: ReservationStatus,
  items: z.array(z.object({ productId: id, quantity: z.number().int() })),
});
/** A reservation. */
export type Reservation = z.output<typeof Reservation>;

const byKey = z.object({ key: z.string().min(1).max(255) });

/** The inventory service's endpoints. */
export const inventoryApi = {
  getStock: endpoint({
    method: 'GET',
    path: '/stock/:productId',
    summary: 'Stock of one product',
    tags: ['stock'],
    params: z.object({ productId: id }),
    response: StockLevel,
    errors: { 404: 'No stock record' },
    auth: 'public',
  }),
  listStock: endpoint({
    method: 'GET',
    path: '/stock',
    summary: 'Stock of several products (comma-separated ids), or of all',
    tags: ['stock'],
    query: z.object({
      ids: z
        .string()
        .max(2000)
        .transform((s) => s.split(',').filter(Boolean))
        .pipe(z.array(id).max(100))
        .optional(),
    }),
    response: z.object({ items: z.array(StockLevel) }),
    auth: 'public',
  }),
  restock: endpoint({
    method: 'POST',
    path: '/stock/:productId/restock',
    summary: 'Add units of a product (admin)',
    tags: ['stock'],
    params: z.object({ productId: id }),
    body: z.object({ quantity: z.number().int().min(1).max(1_000_000) }),
    response: StockLevel,
    auth: adminOnly,
  }),
  reserve: endpoint({
    method: 'POST',
    path: '/reservations',
    summary: 'Reserve every item or none (Idempotency-Key required: the reservation key)',
    tags: ['reservations'],
    body: z.object({ orderId: id, items: ReservationItems }),
    response: Reservation,
    status: 201,
    errors: { 409: 'Out of stock, or the key was released before it was reserved' },
    auth: serviceOnly,
  }),
  release: endpoint({
    method: 'POST',
    path: '/reservations/release',
    summary: 'Return a reservation’s units to stock (idempotent; a tombstone when none exists yet)',
    tags: ['reservations'],
    body: byKey,
    response: Reservation,
    auth: serviceOnly,
  }),
  commit: endpoint({
    method: 'POST',
    path: '/reservations/commit',
    summary: 'Mark a reservation’s units as shipped (idempotent)',
    tags: ['reservations'],
    body: byKey,
    response: Reservation,
    errors: { 404: 'No reservation with this key', 409: 'The reservation was released' },
    auth: serviceOnly,
  }),
};
