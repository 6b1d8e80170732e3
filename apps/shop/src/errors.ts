/**
 * The shop's domain errors. Each extends `TrellisError` with a stable code and HTTP status (the
 * service runtime turns it into `{ error: { code, message, details } }`), and has a guard that
 * matches by code, so it also recognises the same error coming back from another service as a
 * `RemoteError`.
 */
import { errorGuard, TrellisError, type TrellisErrorOptions } from '@trellis/core';

/** Not enough stock for one of the requested items. HTTP 409; nothing was reserved. */
export class OutOfStockError extends TrellisError {
  constructor(productId: string, requested: number, available: number, options: TrellisErrorOptions = {}) {
    super(
      'OUT_OF_STOCK',
      `Not enough stock of ${productId}: ${requested} requested, ${available} available`,
      409,
      {
        ...options,
        details: { productId, requested, available },
      },
    );
  }
}
/** Guard for {@link OutOfStockError} (code `OUT_OF_STOCK`). */
export const isOutOfStockError = errorGuard<OutOfStockError>('OUT_OF_STOCK');

/** The card processor declined the charge. HTTP 402; nothing was charged. */
export class PaymentDeclinedError extends TrellisError {
  constructor(reason: string, options: TrellisErrorOptions = {}) {
    super('PAYMENT_DECLINED', `Payment declined: ${reason}`, 402, { ...options, details: { reason } });
  }
}
/** Guard for {@link PaymentDeclinedError} (code `PAYMENT_DECLINED`). */
export const isPaymentDeclinedError = errorGuard<PaymentDeclinedError>('PAYMENT_DECLINED');

/**
 * The card processor failed or timed out (nothing was charged), or its breaker is open.
 * HTTP 503 with `Retry-After`; a later attempt with the same idempotency key is safe.
 */
export class ProcessorUnavailableError extends TrellisError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs = 1000, options: TrellisErrorOptions = {}) {
    super('PROCESSOR_UNAVAILABLE', message, 503, options);
    this.retryAfterMs = retryAfterMs;
  }
}
/** Guard for {@link ProcessorUnavailableError} (code `PROCESSOR_UNAVAILABLE`). */
export const isProcessorUnavailableError = errorGuard<ProcessorUnavailableError>('PROCESSOR_UNAVAILABLE');

/**
 * A refund or void arrived while the charge it names is still being processed. HTTP 409 with
 * `Retry-After`; retry it (compensations do).
 */
export class ChargeInProgressError extends TrellisError {
  readonly retryAfterMs = 500;

  constructor(key: string, options: TrellisErrorOptions = {}) {
    super('CHARGE_IN_PROGRESS', `The charge with key ${key} is still in progress`, 409, {
      ...options,
      details: { key },
    });
  }
}
/** Guard for {@link ChargeInProgressError} (code `CHARGE_IN_PROGRESS`). */
export const isChargeInProgressError = errorGuard<ChargeInProgressError>('CHARGE_IN_PROGRESS');

/** Sign-up with an email that already has an account. HTTP 409. */
export class EmailTakenError extends TrellisError {
  constructor(options: TrellisErrorOptions = {}) {
    super('EMAIL_TAKEN', 'An account with this email already exists', 409, options);
  }
}
/** Guard for {@link EmailTakenError} (code `EMAIL_TAKEN`). */
export const isEmailTakenError = errorGuard<EmailTakenError>('EMAIL_TAKEN');

/** Wrong email or password (deliberately not saying which). HTTP 401. */
export class InvalidCredentialsError extends TrellisError {
  constructor(options: TrellisErrorOptions = {}) {
    super('INVALID_CREDENTIALS', 'Invalid email or password', 401, options);
  }
}
/** Guard for {@link InvalidCredentialsError} (code `INVALID_CREDENTIALS`). */
export const isInvalidCredentialsError = errorGuard<InvalidCredentialsError>('INVALID_CREDENTIALS');

/** An order names a product the catalog does not have. HTTP 422; nothing was written. */
export class UnknownProductError extends TrellisError {
  constructor(productIds: string[], options: TrellisErrorOptions = {}) {
    super('UNKNOWN_PRODUCT', `Unknown product: ${productIds.join(', ')}`, 422, {
      ...options,
      details: { productIds },
    });
  }
}
/** Guard for {@link UnknownProductError} (code `UNKNOWN_PRODUCT`). */
export const isUnknownProductError = errorGuard<UnknownProductError>('UNKNOWN_PRODUCT');

/** The order is not in a state that allows the operation (e.g. cancelling a shipped order). HTTP 409. */
export class OrderStateError extends TrellisError {
  constructor(orderId: string, status: string, action: string, options: TrellisErrorOptions = {}) {
    super('ORDER_STATE', `Cannot ${action} order ${orderId}: it is ${status}`, 409, {
      ...options,
      details: { orderId, status, action },
    });
  }
}
/** Guard for {@link OrderStateError} (code `ORDER_STATE`). */
export const isOrderStateError = errorGuard<OrderStateError>('ORDER_STATE');

/** A payment method that does not exist or belongs to someone else. HTTP 422. */
export class InvalidPaymentMethodError extends TrellisError {
  constructor(paymentMethod: string, options: TrellisErrorOptions = {}) {
    super('INVALID_PAYMENT_METHOD', `Unknown payment method ${paymentMethod}`, 422, {
      ...options,
      details: { paymentMethod },
    });
  }
}
/** Guard for {@link InvalidPaymentMethodError} (code `INVALID_PAYMENT_METHOD`). */
export const isInvalidPaymentMethodError = errorGuard<InvalidPaymentMethodError>('INVALID_PAYMENT_METHOD');
