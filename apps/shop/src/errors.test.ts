import { isTrellisError } from '@trellis/core';
import { RemoteError } from '@trellis/service';
import { describe, expect, it } from 'vitest';
import {
  ChargeInProgressError,
  EmailTakenError,
  InvalidCredentialsError,
  InvalidPaymentMethodError,
  isChargeInProgressError,
  isEmailTakenError,
  isInvalidCredentialsError,
  isInvalidPaymentMethodError,
  isOrderStateError,
  isOutOfStockError,
  isPaymentDeclinedError,
  isProcessorUnavailableError,
  isUnknownProductError,
  OrderStateError,
  OutOfStockError,
  PaymentDeclinedError,
  ProcessorUnavailableError,
  UnknownProductError,
} from './errors.js';

const cases = [
  [new OutOfStockError('p', 2, 1), isOutOfStockError, 'OUT_OF_STOCK', 409],
  [new PaymentDeclinedError('card_declined'), isPaymentDeclinedError, 'PAYMENT_DECLINED', 402],
  [new ProcessorUnavailableError('down'), isProcessorUnavailableError, 'PROCESSOR_UNAVAILABLE', 503],
  [new ChargeInProgressError('k'), isChargeInProgressError, 'CHARGE_IN_PROGRESS', 409],
  [new EmailTakenError(), isEmailTakenError, 'EMAIL_TAKEN', 409],
  [new InvalidCredentialsError(), isInvalidCredentialsError, 'INVALID_CREDENTIALS', 401],
  [new UnknownProductError(['p']), isUnknownProductError, 'UNKNOWN_PRODUCT', 422],
  [new OrderStateError('o', 'shipped', 'cancel'), isOrderStateError, 'ORDER_STATE', 409],
  [new InvalidPaymentMethodError('pm'), isInvalidPaymentMethodError, 'INVALID_PAYMENT_METHOD', 422],
] as const;

describe('shop errors', () => {
  it.each(cases)('%s has a stable code, a status and a guard', (error, guard, code, status) => {
    expect(isTrellisError(error)).toBe(true);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(guard(error)).toBe(true);
    // A guard matches by code, so the same error coming back from another service is recognised.
    expect(guard(new RemoteError('inventory', code, error.message, status))).toBe(true);
    expect(guard(new Error(code))).toBe(false);
    for (const [other, otherGuard] of cases) if (other !== error) expect(otherGuard(error)).toBe(false);
  });

  it('says which product is short and by how much', () => {
    expect(new OutOfStockError('p-mug', 5, 2).toJSON().error.details).toEqual({
      productId: 'p-mug',
      requested: 5,
      available: 2,
    });
  });
});
