import { isForbiddenError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { Principal, toPrincipal } from './identity.js';

describe('Principal', () => {
  const alice = new Principal({
    id: 'alice',
    permissions: ['orders:read'],
    roles: ['customer'],
    tenantId: 't1',
    credentials: { authorization: 'Bearer x' },
  });

  it('answers permission checks and throws ForbiddenError when one is missing', () => {
    expect(alice.can('orders:read')).toBe(true);
    expect(alice.can('orders:read:any')).toBe(false);
    expect(alice.canAll(['orders:read'])).toBe(true);
    expect(alice.canAll(['orders:read', 'orders:cancel'])).toBe(false);
    expect(() => alice.require('orders:read')).not.toThrow();
    let error: unknown;
    try {
      alice.require('orders:cancel');
    } catch (e) {
      error = e;
    }
    expect(isForbiddenError(error)).toBe(true);
  });

  it("allows the user's own data, and another's only with the permission", () => {
    expect(() => alice.requireSelfOr('alice', 'orders:read:any')).not.toThrow();
    expect(() => alice.requireSelfOr('bob', 'orders:read:any')).toThrow(/another user's data/);
    const staff = new Principal({ id: 'carol', permissions: ['orders:read:any'] });
    expect(() => staff.requireSelfOr('bob', 'orders:read:any')).not.toThrow();
  });

  it('is frozen: a tool cannot widen its own permissions', () => {
    expect(Object.isFrozen(alice)).toBe(true);
    expect(() => {
      (alice as unknown as { id: string }).id = 'bob';
    }).toThrow(TypeError);
    (alice.permissions as Set<string>).add('orders:cancel');
    expect(alice.can('orders:cancel')).toBe(false);
  });

  it('serialises without credentials; toPrincipal keeps an existing principal', () => {
    expect(alice.toJSON()).toEqual({
      id: 'alice',
      permissions: ['orders:read'],
      roles: ['customer'],
      tenantId: 't1',
    });
    expect(JSON.stringify(alice)).not.toContain('Bearer');
    expect(toPrincipal(alice)).toBe(alice);
    expect(toPrincipal({ id: 'x', permissions: [] })).toBeInstanceOf(Principal);
  });
});
