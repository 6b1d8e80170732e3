import { isNotFoundError, isTrellisError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  isConfigError,
  isIdempotencyInProgressError,
  isIdempotencyKeyReusedError,
  isRemoteError,
  isResponseValidationError,
  isServiceUnavailableError,
  isUpstreamError,
  RemoteError,
  ResponseValidationError,
  ServiceUnavailableError,
  UpstreamError,
} from './errors.js';

/** A structurally identical error from "another copy" of the package. */
function foreign(code: string, extra: Record<string, unknown> = {}): Error {
  const e = Object.assign(new Error('x'), { code, status: 500, ...extra });
  Object.defineProperty(e, Symbol.for('trellis.error'), { value: true });
  return e;
}

describe('service errors', () => {
  const cases = [
    [new ConfigError(['PORT: bad']), isConfigError, 'CONFIG_INVALID', 500],
    [new ServiceUnavailableError('draining', 1000), isServiceUnavailableError, 'SERVICE_UNAVAILABLE', 503],
    [new UpstreamError('users', 'users answered 500', 500), isUpstreamError, 'UPSTREAM_FAILED', 502],
    [new ResponseValidationError('bad'), isResponseValidationError, 'RESPONSE_VALIDATION_FAILED', 500],
    [new IdempotencyKeyReusedError('k1'), isIdempotencyKeyReusedError, 'IDEMPOTENCY_KEY_REUSED', 422],
    [new IdempotencyInProgressError('k1'), isIdempotencyInProgressError, 'IDEMPOTENCY_KEY_IN_PROGRESS', 409],
  ] as const;

  it.each(cases)(
    '%s has its code, status and a guard that works across copies',
    (error, guard, code, status) => {
      expect(isTrellisError(error)).toBe(true);
      expect(error.code).toBe(code);
      expect(error.status).toBe(status);
      expect(guard(error)).toBe(true);
      expect(guard(foreign(code))).toBe(true);
      expect(guard(new Error(code))).toBe(false);
      expect(guard(foreign('OTHER'))).toBe(false);
    },
  );

  it('ConfigError lists every problem in its message', () => {
    const e = new ConfigError(['PORT: expected number', 'DATABASE_URL: required']);
    expect(e.message).toContain('PORT: expected number');
    expect(e.message).toContain('DATABASE_URL: required');
    expect(e.problems).toHaveLength(2);
  });

  it('RemoteError keeps the upstream code, so core guards recognise remote failures', () => {
    const e = new RemoteError('users', 'NOT_FOUND', 'No user u9', 404, { id: 'u9' });
    expect(isRemoteError(e)).toBe(true);
    expect(isNotFoundError(e)).toBe(true);
    expect(e.toJSON()).toEqual({
      error: { code: 'NOT_FOUND', message: 'No user u9', details: { id: 'u9' } },
    });
    expect(isRemoteError(new UpstreamError('users', 'down'))).toBe(false);
    expect(isRemoteError(foreign('NOT_FOUND'))).toBe(false);
    const other = foreign('NOT_FOUND');
    Object.defineProperty(other, Symbol.for('trellis.remote-error'), { value: true });
    expect(isRemoteError(other)).toBe(true);
  });
});
