/**
 * Internal endpoints that change state by key (reserve, charge, ship) take the key from the
 * request's `Idempotency-Key` header: the runtime replays a repeated request's stored answer,
 * and the service's own table enforces the same key at the data level.
 */
import { ValidationError } from '@trellis/core';
import type { RequestContext } from '@trellis/service';

/**
 * The request's `Idempotency-Key`.
 *
 * Throws `ValidationError` naming `idempotency-key` when the header is absent.
 */
export function requiredKey(ctx: Pick<RequestContext, 'idempotencyKey'>): string {
  if (!ctx.idempotencyKey) {
    throw new ValidationError('An Idempotency-Key header is required', [
      { path: 'idempotency-key', message: 'Required' },
    ]);
  }
  return ctx.idempotencyKey;
}
