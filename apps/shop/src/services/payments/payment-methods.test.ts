import { isValidationError } from '@trellis/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CardInput, luhnValid } from '../../contracts/payments.js';
import { isInvalidPaymentMethodError } from '../../errors.js';
import { tempSqlite } from '../../testing/temp-sqlite.js';
import { brandOf, resolveMethod, saveCard } from './payment-methods.js';
import { PaymentsStore } from './payments-store.js';

let t: ReturnType<typeof tempSqlite>;
let store: PaymentsStore;
const now = new Date(Date.UTC(2026, 5, 15));

beforeEach(async () => {
  t = tempSqlite();
  store = await PaymentsStore.create(t.db);
});
afterEach(() => t.cleanup());

describe('payment methods', () => {
  it('validates card numbers with Luhn and names the field', () => {
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
    const bad = CardInput.safeParse({
      number: '4242 4242 4242 4241',
      expMonth: 1,
      expYear: 2030,
      cvc: '123',
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['number']);
    expect(
      CardInput.parse({ number: '4242-4242-4242-4242', expMonth: 1, expYear: 2030, cvc: '123' }).number,
    ).toBe('4242424242424242');
  });

  it('keeps only brand and last four digits, and knows the declining test cards', async () => {
    const saved = await saveCard(
      store,
      'c1',
      CardInput.parse({ number: '4000000000000002', expMonth: 12, expYear: 2030, cvc: '123' }),
      now,
    );
    expect(saved).toMatchObject({ brand: 'visa', last4: '0002', behaviour: 'decline' });
    const rows = await t.db.query<Record<string, unknown>>('SELECT * FROM shop_payment_methods');
    expect(JSON.stringify(rows)).not.toContain('4000000000000002');
    expect(brandOf('5555555555554444')).toBe('mastercard');
    expect(brandOf('378282246310005')).toBe('amex');
  });

  it('refuses an expired card, naming card.expYear', async () => {
    const card = CardInput.parse({ number: '4242424242424242', expMonth: 5, expYear: 2026, cvc: '123' });
    const error = await saveCard(store, 'c1', card, now).catch((e: unknown) => e);
    expect(isValidationError(error)).toBe(true);
    expect((error as { issues: Array<{ path: string }> }).issues[0]?.path).toBe('card.expYear');
  });

  it('resolves test methods for anyone and saved methods only for their owner', async () => {
    expect((await resolveMethod(store, 'anyone', 'pm_card_declined')).behaviour).toBe('decline');
    const saved = await saveCard(
      store,
      'c1',
      CardInput.parse({ number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' }),
      now,
    );
    expect((await resolveMethod(store, 'c1', saved.id)).last4).toBe('4242');
    await expect(resolveMethod(store, 'c2', saved.id)).rejects.toSatisfy(isInvalidPaymentMethodError);
    await expect(resolveMethod(store, 'c1', 'pm_nope')).rejects.toSatisfy(isInvalidPaymentMethodError);
  });
});
