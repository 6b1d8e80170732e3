import { TrellisError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { serializeError } from './dead-letter.js';
import {
  BusClosedError,
  BusConfigurationError,
  isBusClosedError,
  isBusConfigurationError,
  isMaxDeliveriesExceededError,
  isPublishFailedError,
  MaxDeliveriesExceededError,
  PublishFailedError,
} from './errors.js';

describe('messaging errors', () => {
  it.each([
    [new BusClosedError(), isBusClosedError, 'BUS_CLOSED', 503],
    [new PublishFailedError('down'), isPublishFailedError, 'BUS_PUBLISH_FAILED', 503],
    [new MaxDeliveriesExceededError(6, 5), isMaxDeliveriesExceededError, 'MAX_DELIVERIES_EXCEEDED', 500],
    [new BusConfigurationError('x'), isBusConfigurationError, 'BUS_MISCONFIGURED', 500],
  ] as const)('%s has its code, status and guard', (err, guard, code, status) => {
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
    expect(guard(err)).toBe(true);
    expect(guard(new TrellisError('OTHER', 'o'))).toBe(false);
    expect(guard(new Error(code))).toBe(false);
  });

  it('serialises any thrown value for a dead letter', () => {
    const e = serializeError(new MaxDeliveriesExceededError(6, 5));
    expect(e).toMatchObject({ name: 'MaxDeliveriesExceededError', code: 'MAX_DELIVERIES_EXCEEDED' });
    expect(e.details).toEqual({ attempts: 6, maxAttempts: 5 });
    expect(e.stack).toContain('MaxDeliveriesExceededError');
    expect(serializeError('plain')).toEqual({ name: 'NonError', message: 'plain' });
    expect(serializeError({ a: 1 })).toEqual({ name: 'NonError', message: '{"a":1}' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(serializeError(circular).message).toBe('[object Object]');
  });
});
