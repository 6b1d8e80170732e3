/**
 * The authorization matrix, proven on a running shop: every cell of `AUTHORIZATION_MATRIX`
 * (every public route × anonymous, the owning customer, another customer, an admin, and a
 * genuine internal service token) is one real request through the gateway, and its answer
 * must be the documented one. Refused requests run first, between two snapshots of every
 * table of every database: they must change nothing. The service-only routes are checked at
 * the service ports with genuine tokens of each kind, and references to another customer's
 * resources inside a body (a saved card, an Idempotency-Key) reach nothing of theirs. The
 * assistant's tools are in `authorization-tools.e2e.test.ts`.
 */
import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADDRESS } from '../demo-data.js';
import { eventually, type TestShop } from '../e2e/test-shop.js';
import type { ShopApi } from '../load/shop-api.js';
import {
  AUTHORIZATION_MATRIX,
  INTERNAL_OUTCOMES,
  INTERNAL_ROUTES,
  MATRIX_ROLES,
  type MatrixRole,
  type Outcome,
} from './authorization-matrix.js';
import { type MatrixFixtures, type MatrixRequest, ROUTE_RECIPES } from './authorization-requests.js';
import { type MatrixShop, startMatrixShop } from './authorization-shop.js';
import { genuineToken } from './forged-identities.js';
import { type RawResponse, send } from './raw-http.js';
import { serviceRoutes } from './route-catalog.js';
import { exampleOf, jsonSchemaOf } from './schema-arbitrary.js';
import { closeAll, databasesOf, diffSnapshots, snapshot } from './state-snapshot.js';

let m: MatrixShop;
let t: TestShop;
let f: MatrixFixtures;
let owner: ShopApi;
let other: ShopApi;
let admin: ShopApi;
let otherId: string;
let ownerKey: string;

beforeAll(async () => {
  m = await startMatrixShop();
  ({ t, f, owner, other, admin, otherId, ownerKey } = m);
});

afterAll(async () => {
  await m?.stop();
});

const sendAs = (role: MatrixRole, r: MatrixRequest) => m.sendAs(role, r);

const codeOf = (res: RawResponse) => (res.json as { error?: { code?: string } } | undefined)?.error?.code;

/** Why `res` is not `outcome` (undefined when it is). */
function mismatch(route: string, role: MatrixRole, outcome: Outcome, res: RawResponse): string | undefined {
  const recipe = ROUTE_RECIPES[route];
  const got = `${res.status} ${codeOf(res) ?? ''} ${res.text.slice(0, 160)}`;
  const where = `${route} as ${role}: expected ${outcome}, got ${got}`;
  const refusal: Record<string, [number, string]> = {
    '401': [401, 'UNAUTHORIZED'],
    '403': [403, 'FORBIDDEN'],
    '404': [404, 'NOT_FOUND'],
  };
  const refused = refusal[outcome];
  if (refused) return res.status === refused[0] && codeOf(res) === refused[1] ? undefined : where;
  const answer = recipe?.allowedAnswer;
  const served = answer
    ? res.status === answer[0] && codeOf(res) === answer[1]
    : res.status >= 200 && res.status < 300;
  if (!served) return where;
  if (outcome === 'own') {
    // Served, and scoped to the caller: nothing of the owner's in the answer.
    const leaked = [f.owner.userId, f.owner.email, f.ownerOrderId, f.ownerRunId].filter((s) =>
      res.text.includes(s),
    );
    if (leaked.length) return `${where}: the answer shows the owner's ${leaked.join(', ')}`;
  }
  return undefined;
}

const cellsWhere = (pick: (o: Outcome) => boolean) =>
  AUTHORIZATION_MATRIX.flatMap((r) =>
    MATRIX_ROLES.filter((role) => pick(r.outcomes[role])).map((role) => ({
      route: r.route,
      role,
      outcome: r.outcomes[role],
    })),
  );
const denied = (o: Outcome) => o === '401' || o === '403' || o === '404';

describe('the authorization matrix, through the gateway', () => {
  let dbs: Record<string, SqlDatabase>;
  afterAll(async () => {
    if (dbs) await closeAll(dbs);
  });

  it('refuses every denied cell as documented, and the refused requests write nothing', async () => {
    const cells = cellsWhere(denied);
    // Requests are built first: building one may need a fixture (a paused run) that writes.
    const requests = [];
    for (const c of cells) requests.push({ ...c, request: await ROUTE_RECIPES[c.route]!.build(f, c.role) });
    dbs = databasesOf(t.shop.topology);
    const before = await snapshot(dbs);
    const failures: string[] = [];
    for (const c of requests) {
      const res = await sendAs(c.role, c.request);
      const why = mismatch(c.route, c.role, c.outcome, res);
      if (why) failures.push(why);
    }
    expect(failures).toEqual([]);
    expect(cells.length).toBeGreaterThan(150);
    expect(diffSnapshots(before, await snapshot(dbs))).toEqual([]);
  });

  it('serves every allowed cell as documented (own-only answers show nothing of the owner’s)', async () => {
    const failures: string[] = [];
    for (const c of cellsWhere((o) => !denied(o))) {
      const recipe = ROUTE_RECIPES[c.route]!;
      const request = await recipe.build(f, c.role);
      recipe.prepare?.(f, c.role);
      const res = await sendAs(c.role, request);
      const why = mismatch(c.route, c.role, c.outcome, res);
      if (why) failures.push(why);
    }
    expect(failures).toEqual([]);
    // The owner's order survived every cancellation attempt (it had shipped).
    expect((await owner.get<{ status: string }>(`/api/orders/${f.ownerOrderId}`)).body.status).toBe(
      'shipped',
    );
  });
});

describe('references to another customer’s resources inside a body', () => {
  it('replaying the owner’s Idempotency-Key gets another customer their own order, never the owner’s answer', async () => {
    const replay = await other.request<{ id: string; customerId: string }>('POST', '/api/orders', {
      body: {
        items: [{ productId: 'p-mug', quantity: 1 }],
        shippingAddress: DEMO_ADDRESS,
        paymentMethod: 'pm_card_visa',
      },
      headers: { 'idempotency-key': ownerKey },
      timeoutMs: 60_000,
    });
    expect(replay.status, JSON.stringify(replay.body)).toBeLessThan(300);
    expect(replay.body.id).not.toBe(f.ownerOrderId);
    expect(replay.body.customerId).toBe(otherId);
    expect(JSON.stringify(replay.body)).not.toContain(f.owner.userId);
  });

  it('cannot pay with another customer’s saved card: the order is cancelled and nothing is charged', async () => {
    const saved = await owner.post<{ id: string }>('/api/payment-methods', {
      card: { number: '4242 4242 4242 4242', expMonth: 12, expYear: 2099, cvc: '123' },
    });
    expect(saved.status).toBe(201);
    const placed = await other.request<{ id: string }>('POST', '/api/orders', {
      body: {
        items: [{ productId: 'p-mug', quantity: 1 }],
        shippingAddress: DEMO_ADDRESS,
        paymentMethod: saved.body.id,
      },
      headers: { 'idempotency-key': randomUUID() },
      timeoutMs: 60_000,
    });
    expect(placed.status, JSON.stringify(placed.body)).toBeLessThan(300);
    const order = await eventually(async () => {
      const r = await other.get<{ status: string; cancelReason: string | null }>(
        `/api/orders/${placed.body.id}`,
      );
      return r.body.status === 'cancelled' && r.body;
    }, 60_000);
    expect(order.cancelReason).toMatch(/payment/i);
    const charges = await admin.get<{
      items: Array<{ status: string; amountCents: number; refundedCents: number }>;
    }>(`/api/admin/charges?orderId=${placed.body.id}`);
    expect(
      charges.body.items.filter((c) => c.status === 'succeeded' && c.refundedCents < c.amountCents),
    ).toEqual([]);
    // The owner's own card list is unchanged and still theirs alone.
    const others = await other.get<{ items: Array<{ id: string }> }>('/api/payment-methods');
    expect(others.body.items.map((m) => m.id)).not.toContain(saved.body.id);
  });
});

describe('service-only routes', () => {
  const internal = serviceRoutes().filter((r) => INTERNAL_ROUTES.some((i) => i.name === r.name));

  it('have no public path: 404 through the gateway for every caller', async () => {
    expect(internal.map((r) => r.name).sort()).toEqual(INTERNAL_ROUTES.map((r) => r.name).sort());
    for (const route of internal) {
      for (const role of MATRIX_ROLES) {
        for (const prefix of ['', '/api']) {
          const res = await sendAs(role, { method: route.method, path: `${prefix}${route.path}`, body: {} });
          // No route matches, so the gateway answers before authenticating anyone.
          expect([404, 401], `${route.name} ${prefix}${route.path} as ${role}: ${res.status}`).toContain(
            res.status,
          );
          if (role !== 'service')
            expect(res.status, `${route.name} as ${role}`).toBe(Number(INTERNAL_OUTCOMES.gateway));
        }
      }
    }
  });

  it('at the service port: a peer service is served, users get 403, anonymous 401', async () => {
    const identities = {
      service: { subject: 'orders', kind: 'service' as const, roles: ['service'] },
      admin: { subject: 'someone', kind: 'user' as const, roles: ['admin'] },
      customer: { subject: f.owner.userId, kind: 'user' as const, roles: ['customer'] },
      anonymous: { subject: 'anonymous', kind: 'anonymous' as const, roles: [] },
    };
    for (const route of internal) {
      const instance = t.shop.topology.instances.find((i) => i.service === route.service)!;
      for (const [who, identity] of Object.entries(identities) as [
        keyof typeof identities,
        (typeof identities)['admin'],
      ][]) {
        const token = await genuineToken(t.shop.secrets, identity);
        const expected = INTERNAL_OUTCOMES[who];
        // Refused callers send a valid body (were they let in, it would act); the peer service
        // sends one the route refuses after authorising it (400), so nothing is reserved or charged.
        const body =
          expected === 'allow' ? '[]' : JSON.stringify(exampleOf(jsonSchemaOf(route.endpoint.body!)));
        const res = await send(instance.url, {
          method: route.method,
          path: route.path,
          headers: {
            'x-trellis-identity': token,
            'content-type': 'application/json',
            'idempotency-key': randomUUID(),
          },
          body,
        });
        const want = expected === 'allow' ? 400 : Number(expected);
        expect(res.status, `${route.name} as ${who}: ${res.text.slice(0, 200)}`).toBe(want);
      }
      // And no token at all.
      const none = await send(instance.url, {
        method: route.method,
        path: route.path,
        headers: {},
        body: '{}',
      });
      expect(none.status).toBe(Number(INTERNAL_OUTCOMES.anonymous));
    }
  });
});
