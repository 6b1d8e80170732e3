import { errorGuard, TrellisError, type TrellisErrorOptions } from '@trellis/core';

/** The bus (or subscription) was closed; nothing more can be published through it. HTTP 503. */
export class BusClosedError extends TrellisError {
  constructor(message = 'The bus is closed', options: TrellisErrorOptions = {}) {
    super('BUS_CLOSED', message, 503, options);
  }
}
/** Guard for {@link BusClosedError}. */
export const isBusClosedError = errorGuard<BusClosedError>('BUS_CLOSED');

/** The transport could not store a published message (server down, timeout). HTTP 503. */
export class PublishFailedError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('BUS_PUBLISH_FAILED', message, 503, options);
  }
}
/** Guard for {@link PublishFailedError}. */
export const isPublishFailedError = errorGuard<PublishFailedError>('BUS_PUBLISH_FAILED');

/**
 * A message was delivered more often than its retry policy allows without ever being
 * acknowledged: its consumer kept crashing or hanging on it. Recorded as the dead letter's
 * error. HTTP 500.
 */
export class MaxDeliveriesExceededError extends TrellisError {
  constructor(attempts: number, maxAttempts: number) {
    super(
      'MAX_DELIVERIES_EXCEEDED',
      `Delivered ${attempts} times (limit ${maxAttempts}) without being acknowledged; the consumer crashed or timed out on it`,
      500,
      { details: { attempts, maxAttempts } },
    );
  }
}
/** Guard for {@link MaxDeliveriesExceededError}. */
export const isMaxDeliveriesExceededError = errorGuard<MaxDeliveriesExceededError>('MAX_DELIVERIES_EXCEEDED');

/** The transport's configuration contradicts what already exists (e.g. partition count). HTTP 500. */
export class BusConfigurationError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('BUS_MISCONFIGURED', message, 500, options);
  }
}
/** Guard for {@link BusConfigurationError}. */
export const isBusConfigurationError = errorGuard<BusConfigurationError>('BUS_MISCONFIGURED');
