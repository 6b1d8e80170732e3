import { AGENT_PERMISSIONS } from '@trellis/agent';
import { describe, expect, it } from 'vitest';
import { assistantUser, permissionsFor, SHOP_PERMISSIONS } from './assistant-identity.js';

const user = (roles: string[], kind: 'user' | 'service' | 'anonymous' | 'api-key' = 'user') => ({
  subject: 'u-1',
  kind,
  scopes: [],
  roles,
});

describe('the assistant’s view of the caller', () => {
  it('gives customers their own orders, and admins everyone’s orders and runs', () => {
    expect(permissionsFor(['customer'])).toEqual([
      SHOP_PERMISSIONS.readOrders,
      SHOP_PERMISSIONS.cancelOrders,
    ]);
    expect(permissionsFor(['admin'])).toEqual(
      expect.arrayContaining([SHOP_PERMISSIONS.readAnyOrders, AGENT_PERMISSIONS.readAnyRun]),
    );
    // Approving other users' runs is never granted: a run's tools act as its own user.
    expect(permissionsFor(['admin'])).not.toContain(AGENT_PERMISSIONS.approveAny);
    expect(permissionsFor(['auditor'])).toEqual([]);
  });

  it('forwards the verified token as the only credential', () => {
    expect(assistantUser(user(['customer']), 'signed-token')).toEqual({
      id: 'u-1',
      permissions: permissionsFor(['customer']),
      roles: ['customer'],
      credentials: { 'x-trellis-identity': 'signed-token' },
    });
  });

  it('serves people only: no identity, anonymous callers and services get none', () => {
    expect(assistantUser(undefined, 'token')).toBeUndefined();
    expect(assistantUser(user(['customer']), undefined)).toBeUndefined();
    expect(assistantUser(user([], 'anonymous'), 'token')).toBeUndefined();
    // A service token must never become a tool's credential (it may call internal endpoints).
    expect(assistantUser(user(['service'], 'service'), 'token')).toBeUndefined();
    expect(assistantUser(user(['customer'], 'api-key'), 'token')?.id).toBe('u-1');
  });
});
