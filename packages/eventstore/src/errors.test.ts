import { isTrellisError, TrellisError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import {
  ConcurrencyError,
  isConcurrencyError,
  isProjectionError,
  isUnknownEventTypeError,
  isUpcastError,
  ProjectionError,
  UnknownEventTypeError,
  UpcastError,
} from './errors.js';

describe('event store errors', () => {
  it('ConcurrencyError carries expected and actual versions, 409', () => {
    const e = new ConcurrencyError('order-1', 3, 5);
    expect(e).toBeInstanceOf(TrellisError);
    expect(e.code).toBe('CONCURRENCY_CONFLICT');
    expect(e.status).toBe(409);
    expect(e.details).toEqual({ streamId: 'order-1', expectedVersion: 3, actualVersion: 5 });
    expect(e.message).toContain('expected version 3 but is at 5');
    expect(isConcurrencyError(e)).toBe(true);
    expect(isConcurrencyError(new UnknownEventTypeError('X'))).toBe(false);
    expect(isConcurrencyError(new Error('CONCURRENCY_CONFLICT'))).toBe(false);
  });

  it('ConcurrencyError with an unknown actual version says so', () => {
    const e = new ConcurrencyError('s', 'no_stream', undefined, { cause: new Error('23505') });
    expect(e.message).toContain('is at unknown');
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('UnknownEventTypeError is a 400 naming the type and path', () => {
    const e = new UnknownEventTypeError('Nope', 'events.2.eventType');
    expect(e.status).toBe(400);
    expect(e.details).toEqual({ eventType: 'Nope', path: 'events.2.eventType' });
    expect(isUnknownEventTypeError(e)).toBe(true);
    expect(isUnknownEventTypeError(new ConcurrencyError('s', 1, 2))).toBe(false);
  });

  it('UpcastError is a 500 naming type and version', () => {
    const e = new UpcastError('ItemAdded', 1, 'no upcaster from v1');
    expect(e.status).toBe(500);
    expect(e.details).toEqual({ eventType: 'ItemAdded', schemaVersion: 1 });
    expect(isUpcastError(e)).toBe(true);
    expect(isUpcastError(new ProjectionError('p', 1, 'x'))).toBe(false);
  });

  it('ProjectionError keeps the failing position and cause', () => {
    const cause = new Error('disk full');
    const e = new ProjectionError('orders', 42, cause);
    expect(e.message).toBe('Projection "orders" failed at position 42: disk full');
    expect(e.cause).toBe(cause);
    expect(e.position).toBe(42);
    expect(isProjectionError(e)).toBe(true);
    expect(isTrellisError(e)).toBe(true);
    expect(isProjectionError({ code: 'PROJECTION_FAILED' })).toBe(false);
  });
});
