import { isValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { Order } from '../../contracts/orders.js';
import { MAX_ORDER_TOTAL_CENTS, orderTotalCents } from './order-total.js';

describe('orderTotalCents', () => {
  it('adds the lines up to the largest amount an order schema takes', () => {
    expect(
      orderTotalCents([
        { quantity: 2, unitPriceCents: 150 },
        { quantity: 1, unitPriceCents: 99 },
      ]),
    ).toBe(399);
    expect(orderTotalCents([{ quantity: 1, unitPriceCents: MAX_ORDER_TOTAL_CENTS }])).toBe(
      MAX_ORDER_TOTAL_CENTS,
    );
    expect(Order.shape.totalCents.safeParse(MAX_ORDER_TOTAL_CENTS).success).toBe(true);
  });

  it('refuses a total beyond it, naming items (the order schema could never show it)', () => {
    const lines = [{ quantity: 3, unitPriceCents: 99_999_999 }];
    const error = (() => {
      try {
        orderTotalCents(lines);
      } catch (e) {
        return e;
      }
    })();
    expect(isValidationError(error)).toBe(true);
    expect((error as Error).message).toContain('"items"');
    expect(Order.shape.totalCents.safeParse(3 * 99_999_999).success).toBe(false);
  });
});
