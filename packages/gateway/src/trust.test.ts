/**
 * Guarantee 7 end to end: a service that requires internal identity tokens accepts what comes
 * through the gateway (with the verified caller) and refuses anything that bypasses it, forged
 * identity headers included.
 */
import { createService, endpoint, InternalTokenVerifier, route, type Service } from '@trellis/service';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AUDIENCE, HS_SECRET, hsToken, ISSUER } from './fixtures/tokens.js';
import { createGateway, type Gateway } from './gateway.js';

const INTERNAL = 'internal-identity-secret-of-32-bytes!!';
const me = endpoint({
  method: 'GET',
  path: '/orders/me',
  auth: { scopes: ['orders:read'] },
  response: z.object({ subject: z.string(), kind: z.string() }),
});

const open: Array<Gateway | Service> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse())
    await ('lifecycle' in o && 'createClient' in o ? o.shutdown() : o.close());
});

describe('gateway → service trust', () => {
  it('the service sees the gateway-verified caller and refuses requests that bypass the gateway', async () => {
    const orders = createService({
      name: 'orders',
      logger: { level: 'silent' },
      internalAuth: { mode: 'required', verifier: new InternalTokenVerifier({ key: INTERNAL }) },
      routes: [
        route(me, ({ ctx }) => ({ subject: ctx.identity?.subject ?? '', kind: ctx.identity?.kind ?? '' })),
      ],
    });
    open.push(orders);
    const ordersUrl = await orders.listen({ port: 0, signals: false });
    const gateway = createGateway({
      logger: { level: 'silent' },
      config: {
        upstreams: { orders: { instances: [ordersUrl] } },
        routes: [{ prefix: '/orders', upstream: 'orders', auth: 'required' }],
        auth: { issuer: ISSUER, audience: AUDIENCE, hs256Secret: HS_SECRET },
        identity: { internalTokenSecret: INTERNAL },
        accessLog: false,
      },
    });
    open.push(gateway);
    const url = await gateway.listen({ port: 0 });

    const token = await hsToken({ sub: 'dana', scope: 'orders:read' });
    const via = await fetch(`${url}/orders/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(via.status).toBe(200);
    expect(await via.json()).toEqual({ subject: 'dana', kind: 'user' });

    const noScope = await fetch(`${url}/orders/me`, {
      headers: { authorization: `Bearer ${await hsToken({ sub: 'eve', scope: 'x' })}` },
    });
    expect(noScope.status).toBe(403); // refused by the service: the gateway route only needs a login

    const direct = await fetch(`${ordersUrl}/orders/me`, {
      headers: { 'x-user-id': 'dana', 'x-user-scopes': 'orders:read' },
    });
    expect(direct.status).toBe(401);
    const withUserJwt = await fetch(`${ordersUrl}/orders/me`, { headers: { 'x-trellis-identity': token } });
    expect(withUserJwt.status).toBe(401);
  });
});
