import { isTrellisError, TrellisError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import {
  BulkheadRejectedError,
  CircuitBreakerOpenError,
  DeadlineExceededError,
  isBulkheadRejectedError,
  isCircuitBreakerOpenError,
  isDeadlineExceededError,
  isRateLimitedError,
  isTimeoutError,
  RateLimitedError,
  TimeoutError,
} from './errors.js';

const cases = [
  [
    'CircuitBreakerOpenError',
    new CircuitBreakerOpenError('users', 'OPEN', 1200),
    isCircuitBreakerOpenError,
    'CIRCUIT_OPEN',
    503,
  ],
  ['TimeoutError', new TimeoutError(500), isTimeoutError, 'TIMEOUT', 504],
  ['DeadlineExceededError', new DeadlineExceededError(), isDeadlineExceededError, 'DEADLINE_EXCEEDED', 504],
  ['BulkheadRejectedError', new BulkheadRejectedError(4, 8), isBulkheadRejectedError, 'BULKHEAD_FULL', 503],
  ['RateLimitedError', new RateLimitedError(250, 'client-1'), isRateLimitedError, 'RATE_LIMITED', 429],
] as const;

describe('typed errors', () => {
  it.each(cases)('%s has its code, status and guard', (name, error, guard, code, status) => {
    expect(error).toBeInstanceOf(TrellisError);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(guard(error)).toBe(true);
    // Every other guard says no, and so does a plain error with the same message.
    for (const [, other, otherGuard] of cases) if (other !== error) expect(otherGuard(error)).toBe(false);
    expect(guard(new Error(error.message))).toBe(false);
    expect(guard(undefined)).toBe(false);
  });

  it('guards recognise errors from another copy of the package (brand + code, not instanceof)', () => {
    const foreign = Object.assign(new Error('from another install'), { code: 'CIRCUIT_OPEN', status: 503 });
    Object.defineProperty(foreign, Symbol.for('trellis.error'), { value: true });
    expect(isCircuitBreakerOpenError(foreign)).toBe(true);
    expect(isRateLimitedError(foreign)).toBe(false);
  });

  it('carries structured details for the client', () => {
    expect(new CircuitBreakerOpenError('users', 'HALF_OPEN', 0).toJSON()).toEqual({
      error: {
        code: 'CIRCUIT_OPEN',
        message: 'Circuit breaker "users" is half-open and probing; call rejected',
        details: { breaker: 'users', state: 'HALF_OPEN', retryAfterMs: 0, isolated: false },
      },
    });
  });

  it('fast-path errors are real, branded instances with a one-line stack', () => {
    const open = CircuitBreakerOpenError.fast('users', 'OPEN', 10, false, 'Circuit breaker "users" is open');
    const limited = RateLimitedError.fast(99, 'k');
    const full = BulkheadRejectedError.fast(4, 8);
    for (const e of [open, limited, full]) {
      expect(e).toBeInstanceOf(Error);
      expect(isTrellisError(e)).toBe(true);
      expect(e.stack?.split('\n')).toHaveLength(1);
    }
    expect(open).toBeInstanceOf(CircuitBreakerOpenError);
    expect(open.name).toBe('CircuitBreakerOpenError');
    expect(isCircuitBreakerOpenError(open)).toBe(true);
    expect(open.toJSON().error.details).toEqual({
      breaker: 'users',
      state: 'OPEN',
      retryAfterMs: 10,
      isolated: false,
    });
    expect(isRateLimitedError(limited)).toBe(true);
    expect(isBulkheadRejectedError(full)).toBe(true);
    expect(full).toBeInstanceOf(BulkheadRejectedError);
    expect(full.toJSON()).toEqual(new BulkheadRejectedError(4, 8).toJSON());
    expect(limited).toMatchObject({
      status: 429,
      retryAfterMs: 99,
      key: 'k',
      message: 'Rate limit exceeded for "k"',
    });
  });
});
