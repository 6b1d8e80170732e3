import { isTrellisError, TrellisError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import {
  InjectedFaultError,
  isInjectedFaultError,
  isOpsCapabilityMissingError,
  isOpsUpstreamError,
  isWebhookDeliveryError,
  OpsCapabilityMissingError,
  OpsUpstreamError,
  WebhookDeliveryError,
} from './errors.js';

describe('ops errors', () => {
  const cases = [
    [
      new OpsCapabilityMissingError('sagas', 'orders#1'),
      isOpsCapabilityMissingError,
      'OPS_CAPABILITY_MISSING',
      404,
    ],
    [new InjectedFaultError('notifications', true), isInjectedFaultError, 'FAULT_INJECTED', 500],
    [new OpsUpstreamError('orders#1', 'unreachable'), isOpsUpstreamError, 'OPS_UPSTREAM_FAILED', 502],
    [
      new WebhookDeliveryError('http://x', 'answered 500'),
      isWebhookDeliveryError,
      'WEBHOOK_DELIVERY_FAILED',
      502,
    ],
  ] as const;

  it.each(cases)('%s has its code, status and guard', (error, guard, code, status) => {
    expect(isTrellisError(error)).toBe(true);
    expect([error.code, error.status]).toEqual([code, status]);
    expect(guard(error)).toBe(true);
    // A copy from another install of the package: same brand and code, another class.
    const foreign = Object.assign(new Error('x'), { code });
    Object.defineProperty(foreign, Symbol.for('trellis.error'), { value: true });
    expect(guard(foreign)).toBe(true);
    expect(guard(new Error(code))).toBe(false);
    expect(guard(new TrellisError('OTHER', 'x', 500))).toBe(false);
    expect(guard(undefined)).toBe(false);
  });

  it('the guards do not confuse one ops error with another', () => {
    const all = cases.map(([error]) => error);
    for (const [, guard] of cases) expect(all.filter((e) => guard(e))).toHaveLength(1);
  });

  it('carry the details an operator needs', () => {
    expect(new OpsCapabilityMissingError('sagas', 'orders#1')).toMatchObject({
      message: 'orders#1 does not provide sagas',
      details: { capability: 'sagas', instance: 'orders#1' },
    });
    expect(new OpsCapabilityMissingError('dead letters').message).toBe('No instance provides dead letters');
    const cause = new Error('ECONNREFUSED');
    const upstream = new OpsUpstreamError('orders#1', 'GET /ops/info answered 503', { cause, status: 503 });
    expect(upstream).toMatchObject({ details: { instance: 'orders#1', upstreamStatus: 503 }, cause });
    expect(upstream.message).toBe('orders#1: GET /ops/info answered 503');
    expect(new WebhookDeliveryError('http://hook', 'answered 400', { status: 400 }).details).toEqual({
      url: 'http://hook',
      status: 400,
    });
  });

  it('marks a transient injected fault retryable and a poison one not', () => {
    expect(new InjectedFaultError('g', true).retryable).toBe(true);
    expect(new InjectedFaultError('g', false).retryable).toBe(false);
    expect(new InjectedFaultError('g', false).details).toEqual({ group: 'g' });
  });
});
