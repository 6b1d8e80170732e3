/**
 * The authorization matrix, proven on a running shop: every cell of `AUTHORIZATION_MATRIX`
 * (every public route × anonymous, the owning customer, another customer, an admin, and a
 * genuine internal service token) is one real request through the gateway, and its answer
 * must be the documented one. Refused requests run first, between two snapshots of every
 * table of every database: they must change nothing. The service-only routes are checked at
 * the service ports with genuine tokens of each kind. The assistant's tools are checked with
 * a scripted model (the OpenAI simulator): which tools each role is offered, which wait for
 * approval, and that a customer's assistant cannot read or cancel another customer's order.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { OpenAISimulator, type SimTurn } from '@trellis/agent/testing';
import type { SqlDatabase } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADDRESS } from '../demo-data.js';
import { eventually, startTestShop, type TestShop } from '../e2e/test-shop.js';
import type { ShopApi } from '../load/shop-api.js';
import { sentToolResults } from '../services/assistant/testing-support.js';
import { sagaIdOf } from '../services/orders/place-order-saga.js';
import {
  AUTHORIZATION_MATRIX,
  INTERNAL_OUTCOMES,
  INTERNAL_ROUTES,
  MATRIX_ROLES,
  type MatrixRole,
  type Outcome,
  TOOL_MATRIX,
} from './authorization-matrix.js';
import { type MatrixFixtures, type MatrixRequest, ROUTE_RECIPES } from './authorization-requests.js';
import { genuineToken } from './forged-identities.js';
import { loopbackAddresses, type RawResponse, send } from './raw-http.js';
import { serviceRoutes } from './route-catalog.js';
import { exampleOf, jsonSchemaOf } from './schema-arbitrary.js';
import { closeAll, databasesOf, diffSnapshots, snapshot } from './state-snapshot.js';

const MODEL_KEY = `sk-matrix-${randomBytes(8).toString('hex')}`;
let t: TestShop;
let sim: OpenAISimulator;
let f: MatrixFixtures;
let tokens: Record<MatrixRole, string | undefined>;
let owner: ShopApi;
let other: ShopApi;
let admin: ShopApi;
let otherId: string;
/** The Idempotency-Key the owner placed their order with. */
const ownerKey = randomUUID();
const addresses = loopbackAddresses(64);
let nextAddress = 0;

interface RunBody {
  runId: string;
  status: string;
  approvals?: Array<{ id: string; toolName: string }>;
}

const call = (name: string, input: Record<string, unknown>): SimTurn => ({ toolCalls: [{ name, input }] });

beforeAll(async () => {
  sim = await OpenAISimulator.start({ apiKey: MODEL_KEY });
  t = await startTestShop({
    serviceEnv: {
      TRELLIS_AGENT_PROVIDER: 'openai',
      OPENAI_API_KEY: MODEL_KEY,
      OPENAI_BASE_URL: sim.url,
      OPENAI_MODEL: 'gpt-simulated',
    },
  });
  const email = `owner-${randomBytes(6).toString('hex')}@example.test`;
  const password = randomBytes(12).toString('base64url');
  const signedUp = await t.api.signup(email, password, 'Owner');
  owner = t.api.as(signedUp.token);
  const second = await t.signup();
  other = second.api;
  otherId = second.userId;
  admin = await t.login('admin');
  const serviceToken = await genuineToken(t.shop.secrets, {
    subject: 'orders',
    kind: 'service',
    roles: ['service'],
  });
  tokens = {
    anonymous: undefined,
    customer: owner.token,
    otherCustomer: other.token,
    admin: admin.token,
    service: serviceToken,
  };

  const placed = await owner.request<{ id: string; status: string }>('POST', '/api/orders', {
    body: {
      items: [{ productId: 'p-mug', quantity: 1 }],
      shippingAddress: DEMO_ADDRESS,
      paymentMethod: 'pm_card_visa',
    },
    headers: { 'idempotency-key': ownerKey },
    timeoutMs: 60_000,
  });
  expect(placed.status, JSON.stringify(placed.body)).toBeLessThan(300);
  const ownerOrderId = placed.body.id;
  await eventually(
    async () =>
      (await owner.get<{ status: string }>(`/api/orders/${ownerOrderId}`)).body.status === 'shipped',
    60_000,
  );
  // The choreography has caught up (read model and notifications), so nothing moves on its own.
  await eventually(async () => {
    const n = await owner.get<{ items: Array<{ message: string }> }>(
      `/api/notifications?orderId=${ownerOrderId}`,
    );
    const listed = await owner.get<{ items: Array<{ id: string; status: string }> }>('/api/orders');
    return (
      n.body.items?.some((i) => i.message.includes('on its way')) &&
      listed.body.items?.some((o) => o.id === ownerOrderId && o.status === 'shipped')
    );
  }, 60_000);

  sim.enqueue({ text: 'Hello, owner.' });
  const run = await owner.post<RunBody>('/api/assistant/chat', { message: 'Hello' });
  expect(run.body.status).toBe('completed');
  const record = await owner.get<{ traceId: string }>(`/api/assistant/runs/${run.body.runId}`);

  f = {
    owner: { userId: signedUp.userId, email, password },
    ownerOrderId,
    ownerSagaId: sagaIdOf(ownerOrderId),
    ownerRunId: run.body.runId,
    traceId: record.body.traceId,
    productId: 'p-mug',
    async pausedRun() {
      sim.enqueue(call('cancel_order', { orderId: ownerOrderId, reason: 'matrix' }));
      const paused = await owner.post<RunBody>('/api/assistant/chat', { message: `Cancel ${ownerOrderId}` });
      const approvalId = paused.body.approvals?.[0]?.id;
      if (paused.body.status !== 'awaiting_approval' || !approvalId)
        throw new Error(`expected a paused run, got ${JSON.stringify(paused.body)}`);
      return { runId: paused.body.runId, approvalId };
    },
    nextModelTurn: () => sim.enqueue({ text: 'Nothing else.' }),
  };
});

afterAll(async () => {
  await t?.stop();
  await sim?.close();
});

function headersOf(role: MatrixRole, extra: Record<string, string> = {}): Record<string, string> {
  const token = tokens[role];
  const headers: Record<string, string> = { ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  // A service token is for inside the shop; presented at the gateway in both places, it is refused.
  if (role === 'service' && token) headers['x-trellis-identity'] = token;
  return headers;
}

function sendAs(role: MatrixRole, r: MatrixRequest): Promise<RawResponse> {
  const body = r.body === undefined ? undefined : JSON.stringify(r.body);
  return send(t.shop.topology.gatewayUrl, {
    method: r.method,
    path: r.path,
    headers: headersOf(role, { ...(body ? { 'content-type': 'application/json' } : {}), ...r.headers }),
    ...(body ? { body } : {}),
    // Sign-ups and log-ins are limited per IP: each request comes from its own loopback address.
    localAddress: addresses[nextAddress++ % addresses.length],
  });
}

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

describe('the assistant’s tools', () => {
  interface Info {
    tools: Array<{ name: string }>;
  }

  it('offers customers and admins the tools the matrix lists; anonymous callers never reach it', async () => {
    for (const api of [owner, admin]) {
      const info = await api.get<Info>('/api/assistant');
      expect(info.status).toBe(200);
      expect(info.body.tools.map((x) => x.name).sort()).toEqual(TOOL_MATRIX.map((x) => x.tool).sort());
    }
    expect((await t.api.get('/api/assistant')).status).toBe(401);
  });

  /**
   * Runs one scripted tool call as `api`; returns the run and what the tool answered the model
   * (nothing when the call waits for approval).
   */
  async function invoke(api: ShopApi, name: string, input: Record<string, unknown>) {
    const start = sim.requests.length;
    const approval = TOOL_MATRIX.find((r) => r.tool === name)?.approval;
    sim.enqueue(call(name, input), ...(approval ? [] : [{ text: 'done' }]));
    const run = await api.post<RunBody>('/api/assistant/chat', { message: `please ${name}` });
    const bodies = sim.requests.slice(start).map((r) => r.body as Record<string, unknown>);
    const result = bodies.length > 1 ? sentToolResults(bodies[1]!)[0] : undefined;
    return { run: run.body, result };
  }

  it('lets a customer use each tool on their own data, pausing for approval exactly where the matrix says', async () => {
    const inputs: Record<string, Record<string, unknown>> = {
      search_orders: {},
      get_order: { orderId: f.ownerOrderId },
      search_products: { query: 'mug' },
      stock_lookup: { productIds: ['p-mug'] },
      cancel_order: { orderId: f.ownerOrderId, reason: 'matrix' },
    };
    for (const row of TOOL_MATRIX) {
      const { run, result } = await invoke(owner, row.tool, inputs[row.tool] ?? {});
      if (row.approval) {
        expect(run, row.tool).toMatchObject({ status: 'awaiting_approval' });
        expect(run.approvals?.map((a) => a.toolName)).toEqual([row.tool]);
        expect(result).toBeUndefined();
      } else {
        expect(run.status, row.tool).toBe('completed');
        expect(result?.errorCode, `${row.tool}: ${JSON.stringify(result?.value)}`).toBeUndefined();
      }
    }
    const own = await invoke(owner, 'search_orders', {});
    expect(JSON.stringify(own.result?.value)).toContain(f.ownerOrderId);
    // Nothing was cancelled while the approval waits.
    const order = (await owner.get<{ cancelRequestedAt: string | null }>(`/api/orders/${f.ownerOrderId}`))
      .body;
    expect(order.cancelRequestedAt).toBeNull();
  });

  it('refuses a customer’s assistant another customer’s orders, as the matrix says, and cancels nothing', async () => {
    const expected = Object.fromEntries(TOOL_MATRIX.map((r) => [r.tool, r.othersData]));
    const search = await invoke(other, 'search_orders', { customerId: f.owner.userId });
    expect(search.result?.errorCode).toBe(expected.search_orders);
    const read = await invoke(other, 'get_order', { orderId: f.ownerOrderId });
    expect(read.result?.errorCode).toBe(expected.get_order);
    expect(JSON.stringify(read.result?.value)).not.toContain('p-mug');

    // Cancelling waits for the user's approval; approved, the orders service still says no.
    sim.enqueue(call('cancel_order', { orderId: f.ownerOrderId }));
    const paused = await other.post<RunBody>('/api/assistant/chat', { message: `Cancel ${f.ownerOrderId}` });
    expect(paused.body.status).toBe('awaiting_approval');
    const start = sim.requests.length;
    sim.enqueue({ text: 'done' });
    const resumed = await other.post<RunBody>(`/api/assistant/runs/${paused.body.runId}/approvals`, {
      decisions: (paused.body.approvals ?? []).map((a) => ({ approvalId: a.id, approve: true })),
    });
    expect(resumed.body.status).toBe('completed');
    const [cancel] = sentToolResults(sim.requests[start]?.body as Record<string, unknown>);
    expect(cancel?.errorCode).toBe(expected.cancel_order);
    const order = (
      await owner.get<{ status: string; cancelRequestedAt: string | null }>(`/api/orders/${f.ownerOrderId}`)
    ).body;
    expect(order).toMatchObject({ status: 'shipped', cancelRequestedAt: null });
    // The other customer is a different person (the refusals are not about a missing user).
    expect(otherId).not.toBe(f.owner.userId);
  });

  it('lets an admin’s assistant read any customer’s orders, and still asks before cancelling', async () => {
    const search = await invoke(admin, 'search_orders', { customerId: f.owner.userId });
    expect(search.result?.errorCode).toBeUndefined();
    expect(JSON.stringify(search.result?.value)).toContain(f.ownerOrderId);
    expect((await invoke(admin, 'get_order', { orderId: f.ownerOrderId })).result?.errorCode).toBeUndefined();
    sim.enqueue(call('cancel_order', { orderId: f.ownerOrderId }));
    const paused = await admin.post<RunBody>('/api/assistant/chat', { message: `Cancel ${f.ownerOrderId}` });
    expect(paused.body).toMatchObject({ status: 'awaiting_approval' });
    expect(paused.body.approvals?.map((a) => a.toolName)).toEqual(['cancel_order']);
    // Approved, the call reaches the order (any order, for an admin): the orders service
    // answers about its state (it has shipped), not that it does not exist.
    const start = sim.requests.length;
    sim.enqueue({ text: 'done' });
    const resumed = await admin.post<RunBody>(`/api/assistant/runs/${paused.body.runId}/approvals`, {
      decisions: (paused.body.approvals ?? []).map((a) => ({ approvalId: a.id, approve: true })),
    });
    expect(resumed.body.status).toBe('completed');
    const [cancel] = sentToolResults(sim.requests[start]?.body as Record<string, unknown>);
    expect(cancel?.errorCode).toBe('ORDER_STATE');
  });

  it('over MCP, offers the same tools and refuses the approval-gated one (no human to ask)', async () => {
    const mcp = (api: ShopApi, body: unknown) =>
      send(t.shop.topology.gatewayUrl, {
        method: 'POST',
        path: '/api/assistant/mcp',
        headers: {
          authorization: `Bearer ${api.token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify(body),
      });
    const parse = (res: RawResponse) =>
      (res.json ??
        JSON.parse(
          res.text
            .split('\n')
            .find((l) => l.startsWith('data:'))
            ?.slice(5) ?? 'null',
        )) as {
        result?: { tools?: Array<{ name: string }>; isError?: boolean; content?: Array<{ text: string }> };
      };
    const listed = parse(await mcp(owner, { jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(listed.result?.tools?.map((x) => x.name).sort()).toEqual(TOOL_MATRIX.map((x) => x.tool).sort());
    const cancel = parse(
      await mcp(owner, {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'cancel_order', arguments: { orderId: f.ownerOrderId } },
      }),
    );
    expect(cancel.result?.isError).toBe(true);
    expect(cancel.result?.content?.[0]?.text).toContain('TOOL_APPROVAL_REQUIRED');
    const foreign = parse(
      await mcp(other, {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'get_order', arguments: { orderId: f.ownerOrderId } },
      }),
    );
    expect(foreign.result?.content?.[0]?.text).toContain('NOT_FOUND');
  });
});
