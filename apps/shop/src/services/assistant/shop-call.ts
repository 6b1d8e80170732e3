/**
 * How a tool's call to a shop service fails, as the model (and the user) will read it. A
 * service's own answer (`FORBIDDEN`, `NOT_FOUND`, `ORDER_STATE`…) is passed through as it is:
 * that is the shop's authorization and business rules speaking. Anything else (connection
 * refused, breaker open, 5xx, deadline) becomes one `SHOP_UNAVAILABLE` naming the service,
 * without the internal addresses or stack details a transport error carries.
 */
import { errorGuard, isTrellisError, TrellisError, type TrellisErrorOptions } from '@trellis/core';
import { isRemoteError } from '@trellis/service';

/** A shop service a tool needed did not answer. HTTP 503. */
export class ShopUnavailableError extends TrellisError {
  readonly service: string;

  constructor(service: string, options: TrellisErrorOptions = {}) {
    super(
      'SHOP_UNAVAILABLE',
      `The ${service} service is not available right now; try again in a moment`,
      503,
      { ...options, details: { service } },
    );
    this.service = service;
  }
}
/** Guard for {@link ShopUnavailableError} (code `SHOP_UNAVAILABLE`). */
export const isShopUnavailableError = errorGuard<ShopUnavailableError>('SHOP_UNAVAILABLE');

/**
 * Runs one call to `service`, translating failures as described above.
 *
 * Throws the service's own error for its 4xx answers, the error itself for the caller's own
 * mistakes (4xx raised before sending, an abort), and `ShopUnavailableError` otherwise.
 *
 * @example
 * ```ts
 * const page = await shopCall('orders', () => clients.orders.listOrders({ query }, options));
 * ```
 */
export async function shopCall<T>(service: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isRemoteError(error)) throw error;
    if (isTrellisError(error) && error.status < 500) throw error;
    throw new ShopUnavailableError(service, { cause: error });
  }
}
