import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  ConflictError,
  ForbiddenError,
  isAbortedError,
  isConflictError,
  isForbiddenError,
  isNotFoundError,
  isTrellisError,
  isUnauthorizedError,
  isValidationError,
  NotFoundError,
  TrellisError,
  UnauthorizedError,
  ValidationError,
} from './index.js';

describe('TrellisError', () => {
  it('carries code, status, details and cause', () => {
    const cause = new Error('db down');
    const e = new TrellisError('X_FAILED', 'x failed', 503, { cause, details: { a: 1 } });
    expect(e.code).toBe('X_FAILED');
    expect(e.status).toBe(503);
    expect(e.details).toEqual({ a: 1 });
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('TrellisError');
    expect(e.toJSON()).toEqual({ error: { code: 'X_FAILED', message: 'x failed', details: { a: 1 } } });
  });

  it('guards recognise errors from a duplicate install by brand, not instanceof', () => {
    // A structurally identical error from "another copy": same brand symbol, different class.
    const foreign = Object.assign(new Error('nope'), { code: 'NOT_FOUND', status: 404 });
    Object.defineProperty(foreign, Symbol.for('trellis.error'), { value: true });
    expect(foreign instanceof NotFoundError).toBe(false);
    expect(isNotFoundError(foreign)).toBe(true);
    expect(isTrellisError(new Error('plain'))).toBe(false);
    expect(isTrellisError(null)).toBe(false);
  });

  it.each([
    [new NotFoundError('n'), isNotFoundError, 404],
    [new ConflictError('c'), isConflictError, 409],
    [new UnauthorizedError(), isUnauthorizedError, 401],
    [new ForbiddenError(), isForbiddenError, 403],
    [new AbortedError(), isAbortedError, 499],
    [new ValidationError('v'), isValidationError, 400],
  ] as const)('%s has its guard and status', (err, guard, status) => {
    expect(guard(err)).toBe(true);
    expect(err.status).toBe(status);
    // Every guard rejects every other error class.
    expect(guard(new TrellisError('OTHER', 'o'))).toBe(false);
  });

  it('ValidationError.fromZod names the field', () => {
    const e = ValidationError.fromZod(
      { issues: [{ path: ['items', 0, 'quantity'], message: 'Too small: expected number to be >0' }] },
      'body',
    );
    expect(e.message).toBe('Invalid body at "items.0.quantity": Too small: expected number to be >0');
    expect(e.issues).toEqual([{ path: 'items.0.quantity', message: 'Too small: expected number to be >0' }]);
    expect(e.toJSON().error.details).toEqual({ issues: e.issues });
  });
});
