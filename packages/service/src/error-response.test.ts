import { ConflictError, NotFoundError, ValidationError } from '@trellis/core';
import {
  BulkheadRejectedError,
  CircuitBreakerOpenError,
  RateLimitedError,
  TimeoutError,
} from '@trellis/resilience';
import { describe, expect, it } from 'vitest';
import { toErrorResponse } from './error-response.js';
import { IdempotencyInProgressError } from './errors.js';

describe('toErrorResponse', () => {
  it('uses the status and JSON of Trellis errors', () => {
    expect(toErrorResponse(new NotFoundError('gone'))).toEqual({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: 'gone' } },
      headers: {},
    });
    expect(toErrorResponse(new ConflictError('dup')).status).toBe(409);
    const v = toErrorResponse(new ValidationError('bad', [{ path: 'a', message: 'Required' }]));
    expect(v.status).toBe(400);
    expect(v.body.error.details).toEqual({ issues: [{ path: 'a', message: 'Required' }] });
    expect(toErrorResponse(new TimeoutError(100)).status).toBe(504);
    expect(toErrorResponse(new BulkheadRejectedError(1, 0)).status).toBe(503);
  });

  it('adds Retry-After (whole seconds, rounded up, at least 1) for open breakers, rate limits and in-progress keys', () => {
    expect(toErrorResponse(new CircuitBreakerOpenError('pay', 'OPEN', 1200)).headers).toEqual({
      'retry-after': '2',
    });
    expect(toErrorResponse(new CircuitBreakerOpenError('pay', 'HALF_OPEN', 0)).headers).toEqual({
      'retry-after': '1',
    });
    expect(toErrorResponse(new RateLimitedError(10)).headers).toEqual({ 'retry-after': '1' });
    expect(toErrorResponse(new IdempotencyInProgressError('k', 3000)).headers).toEqual({
      'retry-after': '3',
    });
  });

  it('names framework client errors by status and hides unknown failures', () => {
    expect(toErrorResponse({ statusCode: 413, message: 'Request body is too large' })).toEqual({
      status: 413,
      body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' } },
      headers: {},
    });
    expect(toErrorResponse(new Error('secret detail'))).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } },
      headers: {},
    });
    expect(toErrorResponse('a string').status).toBe(500);
    expect(toErrorResponse({ statusCode: 200 }).status).toBe(500);
  });
});
