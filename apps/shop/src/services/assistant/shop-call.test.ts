import { ForbiddenError, isValidationError, ValidationError } from '@trellis/core';
import { CircuitBreakerOpenError } from '@trellis/resilience';
import { isRemoteError, RemoteError, UpstreamError } from '@trellis/service';
import { describe, expect, it } from 'vitest';
import { isShopUnavailableError, ShopUnavailableError, shopCall } from './shop-call.js';

const failWith = (error: unknown) => shopCall('orders', () => Promise.reject(error));

describe('shopCall', () => {
  it('passes a service’s own answers through, with their codes', async () => {
    const forbidden = new RemoteError('orders', 'FORBIDDEN', 'Only admins list other customers’ orders', 403);
    await expect(failWith(forbidden)).rejects.toSatisfy(isRemoteError);
    await expect(failWith(forbidden)).rejects.toMatchObject({ code: 'FORBIDDEN', status: 403 });
    await expect(failWith(new ValidationError('bad id', []))).rejects.toSatisfy(isValidationError);
  });

  it('turns transport failures into SHOP_UNAVAILABLE, without internal addresses', async () => {
    const refused = new UpstreamError('orders', 'Calling orders failed: connect ECONNREFUSED 127.0.0.1:3004');
    const error = await failWith(refused).catch((e: unknown) => e);
    expect(isShopUnavailableError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'The orders service is not available right now; try again in a moment',
    );
    expect((error as ShopUnavailableError).status).toBe(503);
    expect(
      isShopUnavailableError(await failWith(new CircuitBreakerOpenError('orders')).catch((e) => e)),
    ).toBe(true);
    expect(isShopUnavailableError(await failWith(new TypeError('boom')).catch((e) => e))).toBe(true);
  });

  it('returns what the call returns', async () => {
    await expect(shopCall('catalog', async () => 42)).resolves.toBe(42);
  });

  it('has a guard that tells its error from others', () => {
    expect(isShopUnavailableError(new ShopUnavailableError('catalog'))).toBe(true);
    expect(isShopUnavailableError(new ForbiddenError())).toBe(false);
    expect(isShopUnavailableError(new Error('SHOP_UNAVAILABLE'))).toBe(false);
  });
});
