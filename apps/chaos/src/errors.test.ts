import { TrellisError, ValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import {
  ChaosEnvironmentError,
  ChaosFaultError,
  isChaosEnvironmentError,
  isChaosFaultError,
} from './errors.js';

describe('chaos errors', () => {
  it('carry stable codes and statuses', () => {
    const env = new ChaosEnvironmentError('no ip netns');
    expect(env).toBeInstanceOf(TrellisError);
    expect([env.code, env.status]).toEqual(['CHAOS_ENVIRONMENT', 503]);
    const fault = new ChaosFaultError('kill-postgres', 'did not come back');
    expect([fault.code, fault.status, fault.message]).toEqual([
      'CHAOS_FAULT_FAILED',
      500,
      'kill-postgres: did not come back',
    ]);
    expect(fault.details).toEqual({ experiment: 'kill-postgres' });
  });

  it('have guards that recognise only their own code, also across copies', () => {
    const env = new ChaosEnvironmentError('x');
    const fault = new ChaosFaultError('e', 'x');
    expect(isChaosEnvironmentError(env)).toBe(true);
    expect(isChaosEnvironmentError(fault)).toBe(false);
    expect(isChaosFaultError(fault)).toBe(true);
    expect(isChaosFaultError(new ValidationError('x'))).toBe(false);
    // A structurally identical error from another copy of the package carries the same brand.
    const copy = new TrellisError('CHAOS_ENVIRONMENT', 'from another copy', 503);
    expect(isChaosEnvironmentError(copy)).toBe(true);
    expect(isChaosFaultError(new Error('plain'))).toBe(false);
  });
});
