import { ValidationError } from '@trellis/core';
import { CircuitBreakerOpenError, CircuitState, isTimeoutError, TimeoutError } from '@trellis/resilience';
import { RemoteError, UpstreamError } from '@trellis/service';
import { describe, expect, it } from 'vitest';
import { ambiguousAsUnknown, answeredUnavailable, outcomeUnknown, upstreamCode } from './remote-code.js';

const refused = new UpstreamError('payments', 'connect ECONNREFUSED', 0, {
  cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
});
const reset = new UpstreamError('payments', 'socket hang up', 0, {
  cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
});
const processorDown = new UpstreamError('payments', 'payments answered 503', 503, {
  details: { upstream: 'payments', status: 503, error: { code: 'PROCESSOR_UNAVAILABLE' } },
});
const open = new CircuitBreakerOpenError('payments', CircuitState.OPEN, 1000);

describe('remote failures', () => {
  it('reads the upstream’s own code through a 5xx', () => {
    expect(upstreamCode(processorDown)).toBe('PROCESSOR_UNAVAILABLE');
    expect(upstreamCode(reset)).toBe('UPSTREAM_FAILED');
    expect(answeredUnavailable(processorDown, ['PROCESSOR_UNAVAILABLE'])).toBe(true);
    expect(answeredUnavailable(reset, ['PROCESSOR_UNAVAILABLE'])).toBe(false);
  });

  it('knows typed answers and unsent first attempts are definite', () => {
    expect(outcomeUnknown(new RemoteError('payments', 'PAYMENT_DECLINED', 'declined', 402))).toBe(false);
    expect(outcomeUnknown(new RemoteError('inventory', 'OUT_OF_STOCK', 'no', 409), 3)).toBe(false);
    expect(outcomeUnknown(processorDown)).toBe(false);
    expect(outcomeUnknown(new ValidationError('bad'))).toBe(false);
    expect(outcomeUnknown(refused, 1)).toBe(false);
    expect(outcomeUnknown(open, 1)).toBe(false);
  });

  it('treats broken connections, untyped 5xx, keys in progress and unsent retries as unknown', () => {
    expect(outcomeUnknown(reset)).toBe(true);
    expect(outcomeUnknown(new UpstreamError('x', 'answered 500', 500))).toBe(true);
    expect(outcomeUnknown(new RemoteError('x', 'IDEMPOTENCY_KEY_IN_PROGRESS', 'busy', 409))).toBe(true);
    expect(outcomeUnknown(new RemoteError('x', 'IDEMPOTENCY_KEY_REUSED', 'other body', 422))).toBe(true);
    // A retry that could not be sent says nothing about the attempt before it.
    expect(outcomeUnknown(refused, 2)).toBe(true);
    expect(outcomeUnknown(open, 2)).toBe(true);
  });

  it('reports unknown outcomes as a TimeoutError (what the saga runner compensates) and keeps definite ones', async () => {
    const unknown = await ambiguousAsUnknown(2, Promise.reject(refused)).catch((e: unknown) => e);
    expect(isTimeoutError(unknown)).toBe(true);
    expect((unknown as Error).cause).toBe(refused);
    const declined = new RemoteError('payments', 'PAYMENT_DECLINED', 'declined', 402);
    expect(await ambiguousAsUnknown(2, Promise.reject(declined)).catch((e: unknown) => e)).toBe(declined);
    const timeout = new TimeoutError(100);
    expect(await ambiguousAsUnknown(1, Promise.reject(timeout)).catch((e: unknown) => e)).toBe(timeout);
    expect(await ambiguousAsUnknown(1, Promise.resolve(7))).toBe(7);
  });
});
