/**
 * An order's total, checked against the largest amount the shop handles. Prices and
 * quantities are each bounded, but their product is not: three units of a product an admin
 * priced at €999,999.99 came to more than the `cents` bound of every order schema, so the
 * order was written and then every answer that showed it — the placing request, and every
 * admin listing of all orders from then on — failed its response schema with a 500. The
 * fuzzer found it; such an order is now refused before anything is written.
 */
import { ValidationError } from '@trellis/core';
import { cents } from '../../contracts/common.js';

/** The largest amount, in cents, an order may come to (the `cents` schema's bound). */
export const MAX_ORDER_TOTAL_CENTS = cents.maxValue ?? Number.MAX_SAFE_INTEGER;

/**
 * The total of `lines` in cents.
 *
 * Throws `ValidationError` (400, naming `items`) when it exceeds {@link MAX_ORDER_TOTAL_CENTS}.
 */
export function orderTotalCents(lines: ReadonlyArray<{ quantity: number; unitPriceCents: number }>): number {
  const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
  if (total > MAX_ORDER_TOTAL_CENTS) {
    const message = `the order comes to ${total} cents, more than the most an order may be (${MAX_ORDER_TOTAL_CENTS})`;
    throw new ValidationError(`Invalid body at "items": ${message}`, [{ path: 'items', message }]);
  }
  return total;
}
