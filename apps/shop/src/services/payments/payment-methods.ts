/**
 * Payment methods: saving a card keeps only its brand, last four digits, expiry and how the
 * simulator treats it (the well-known test numbers decline); built-in test methods work for
 * everyone, like a card network's sandbox.
 */
import { ValidationError } from '@trellis/core';
import type { z } from 'zod';
import type { CardInput } from '../../contracts/payments.js';
import { InvalidPaymentMethodError } from '../../errors.js';
import type { CardBehaviour } from './card-processor.js';
import type { PaymentsStore, StoredMethod } from './payments-store.js';

/** Test card numbers with a fixed behaviour (Stripe's conventions). */
const TEST_NUMBERS: Record<string, CardBehaviour> = {
  '4000000000000002': 'decline',
  '4000000000009995': 'insufficient_funds',
};

/** Built-in test payment methods, usable by any customer. */
export const TEST_METHODS: Record<string, Omit<StoredMethod, 'id'>> = {
  pm_card_visa: {
    customerId: null,
    brand: 'visa',
    last4: '4242',
    expMonth: 12,
    expYear: 2099,
    behaviour: 'ok',
    createdAt: '2026-01-01T00:00:00.000Z',
  },
  pm_card_mastercard: {
    customerId: null,
    brand: 'mastercard',
    last4: '4444',
    expMonth: 12,
    expYear: 2099,
    behaviour: 'ok',
    createdAt: '2026-01-01T00:00:00.000Z',
  },
  pm_card_declined: {
    customerId: null,
    brand: 'visa',
    last4: '0002',
    expMonth: 12,
    expYear: 2099,
    behaviour: 'decline',
    createdAt: '2026-01-01T00:00:00.000Z',
  },
  pm_card_insufficient_funds: {
    customerId: null,
    brand: 'visa',
    last4: '9995',
    expMonth: 12,
    expYear: 2099,
    behaviour: 'insufficient_funds',
    createdAt: '2026-01-01T00:00:00.000Z',
  },
};

/** The brand of a card number by its prefix. */
export function brandOf(number: string): string {
  if (number.startsWith('4')) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  return 'card';
}

/**
 * Saves a card for a customer.
 *
 * Throws `ValidationError` naming `card.expYear` when the card has expired.
 */
export async function saveCard(
  store: PaymentsStore,
  customerId: string,
  card: z.output<typeof CardInput>,
  now: Date,
): Promise<StoredMethod> {
  const expired =
    card.expYear < now.getUTCFullYear() ||
    (card.expYear === now.getUTCFullYear() && card.expMonth < now.getUTCMonth() + 1);
  if (expired) {
    throw new ValidationError('Invalid body at "card.expYear": the card has expired', [
      { path: 'card.expYear', message: 'the card has expired' },
    ]);
  }
  return store.saveMethod({
    customerId,
    brand: brandOf(card.number),
    last4: card.number.slice(-4),
    expMonth: card.expMonth,
    expYear: card.expYear,
    behaviour: TEST_NUMBERS[card.number] ?? 'ok',
  });
}

/**
 * The method a charge names, checked against the customer.
 *
 * Throws `InvalidPaymentMethodError` for an unknown method or another customer's.
 */
export async function resolveMethod(
  store: PaymentsStore,
  customerId: string,
  paymentMethod: string,
): Promise<Omit<StoredMethod, 'id'> & { id: string }> {
  const test = TEST_METHODS[paymentMethod];
  if (test) return { ...test, id: paymentMethod };
  const saved = await store.method(paymentMethod);
  if (!saved || saved.customerId !== customerId) throw new InvalidPaymentMethodError(paymentMethod);
  return saved;
}
