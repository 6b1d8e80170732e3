/**
 * One real request per public route for the authorization matrix test: each addresses the
 * owner's resources (the owner's order, run, saga, trace) where the route has a resource, so
 * the same request tells "allowed" from "someone else's" for every caller. A request is valid
 * in every way but, possibly, its caller's right to make it; where the route's ordinary answer
 * for an allowed caller is not 2xx (cancelling an order that already shipped, resuming a saga
 * that completed, reading a dead letter that does not exist), the recipe names that answer.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DEMO_ADDRESS } from '../demo-data.js';
import type { MatrixRole } from './authorization-matrix.js';

/** What the shop holds for the test, all owned by the "owner" customer unless named. */
export interface MatrixFixtures {
  owner: { userId: string; email: string; password: string };
  ownerOrderId: string;
  ownerSagaId: string;
  /** A finished assistant run of the owner's. */
  ownerRunId: string;
  /** A trace recorded by the shop (the owner's run). */
  traceId: string;
  /** A product the admin cells may change. */
  productId: string;
  /**
   * Pauses a new run of the owner's for approval and returns its id and the approval's id
   * (the approvals route needs one per call: a decision is recorded once).
   */
  pausedRun(): Promise<{ runId: string; approvalId: string }>;
  /** Scripts the model's next answer (for requests that reach the model). */
  nextModelTurn(): void;
}

/** One request as the raw client sends it. */
export interface MatrixRequest {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** How to make the request of one route. */
export interface RouteRecipe {
  build(f: MatrixFixtures, role: MatrixRole): MatrixRequest | Promise<MatrixRequest>;
  /** Called before the request when the matrix allows `role` (e.g. to script the model). */
  prepare?(f: MatrixFixtures, role: MatrixRole): void;
  /** The route's ordinary answer for an allowed caller, when it is not 2xx: `[status, code]`. */
  allowedAnswer?: readonly [number, string];
}

const get = (path: string): RouteRecipe => ({ build: () => ({ method: 'GET', path }) });
const uniqueEmail = () => `matrix-${randomBytes(6).toString('hex')}@example.test`;
const order = {
  items: [{ productId: 'p-mug', quantity: 1 }],
  shippingAddress: DEMO_ADDRESS,
  paymentMethod: 'pm_card_visa',
};

/** A recipe for every public route, by its catalog key. */
export const ROUTE_RECIPES: Readonly<Record<string, RouteRecipe>> = {
  'POST /api/auth/signup': {
    build: () => ({
      method: 'POST',
      path: '/api/auth/signup',
      body: { email: uniqueEmail(), password: randomBytes(12).toString('base64url'), name: 'Matrix' },
    }),
  },
  'POST /api/auth/login': {
    build: (f) => ({
      method: 'POST',
      path: '/api/auth/login',
      body: { email: f.owner.email, password: f.owner.password },
    }),
  },
  'GET /api/users/me': get('/api/users/me'),
  'PATCH /api/users/me': {
    build: () => ({ method: 'PATCH', path: '/api/users/me', body: { name: 'Renamed' } }),
  },
  'GET /api/users/:id': { build: (f) => ({ method: 'GET', path: `/api/users/${f.owner.userId}` }) },
  'GET /api/users': get('/api/users?limit=5'),
  'GET /api/products': get('/api/products?limit=3'),
  'GET /api/products/:id': { build: (f) => ({ method: 'GET', path: `/api/products/${f.productId}` }) },
  'GET /api/categories': get('/api/categories'),
  'POST /api/products/lookup': {
    build: (f) => ({ method: 'POST', path: '/api/products/lookup', body: { ids: [f.productId] } }),
  },
  'POST /api/products': {
    build: () => {
      const suffix = randomBytes(4).toString('hex');
      return {
        method: 'POST',
        path: '/api/products',
        body: {
          id: `p-matrix-${suffix}`,
          sku: `MATRIX-${suffix.toUpperCase()}`,
          name: 'Matrix test product',
          description: 'Created by the authorization matrix test',
          category: 'equipment',
          priceCents: 1234,
        },
      };
    },
  },
  'PATCH /api/products/:id': {
    build: (f) => ({
      method: 'PATCH',
      path: `/api/products/${f.productId}`,
      body: { description: 'Changed by the authorization matrix test' },
    }),
  },
  'GET /api/stock': { build: (f) => ({ method: 'GET', path: `/api/stock?ids=${f.productId}` }) },
  'GET /api/stock/:productId': { build: (f) => ({ method: 'GET', path: `/api/stock/${f.productId}` }) },
  'POST /api/stock/:productId/restock': {
    build: (f) => ({ method: 'POST', path: `/api/stock/${f.productId}/restock`, body: { quantity: 1 } }),
  },
  'POST /api/orders': {
    build: () => ({
      method: 'POST',
      path: '/api/orders',
      body: order,
      headers: { 'idempotency-key': randomUUID() },
    }),
  },
  'GET /api/orders': {
    build: (f) => ({ method: 'GET', path: `/api/orders?customerId=${f.owner.userId}&limit=5` }),
  },
  'GET /api/orders/:id': { build: (f) => ({ method: 'GET', path: `/api/orders/${f.ownerOrderId}` }) },
  'POST /api/orders/:id/cancel': {
    build: (f) => ({
      method: 'POST',
      path: `/api/orders/${f.ownerOrderId}/cancel`,
      body: { reason: 'matrix' },
      headers: { 'idempotency-key': randomUUID() },
    }),
    // The owner's order shipped long ago: only those who may see it learn that.
    allowedAnswer: [409, 'ORDER_STATE'],
  },
  'GET /api/orders/:id/events': {
    build: (f) => ({ method: 'GET', path: `/api/orders/${f.ownerOrderId}/events` }),
  },
  'POST /api/payment-methods': {
    build: () => ({
      method: 'POST',
      path: '/api/payment-methods',
      body: { card: { number: '5555 5555 5555 4444', expMonth: 12, expYear: 2099, cvc: '123' } },
    }),
  },
  'GET /api/payment-methods': get('/api/payment-methods'),
  'GET /api/notifications': {
    build: (f) => ({ method: 'GET', path: `/api/notifications?orderId=${f.ownerOrderId}` }),
  },
  'GET /api/admin/charges': {
    build: (f) => ({ method: 'GET', path: `/api/admin/charges?orderId=${f.ownerOrderId}` }),
  },
  'GET /api/admin/processor': get('/api/admin/processor'),
  'PUT /api/admin/processor': { build: () => ({ method: 'PUT', path: '/api/admin/processor', body: {} }) },
  'GET /api/admin/shipments': {
    build: (f) => ({ method: 'GET', path: `/api/admin/shipments?orderId=${f.ownerOrderId}` }),
  },
  'GET /api/assistant': get('/api/assistant'),
  'POST /api/assistant/chat': {
    // Continues the owner's conversation: the run is the resource.
    build: (f) => ({
      method: 'POST',
      path: '/api/assistant/chat',
      body: { message: 'And what else?', runId: f.ownerRunId },
    }),
    prepare: (f) => f.nextModelTurn(),
  },
  'GET /api/assistant/runs': get('/api/assistant/runs?limit=50'),
  'GET /api/assistant/runs/:id': {
    build: (f) => ({ method: 'GET', path: `/api/assistant/runs/${f.ownerRunId}` }),
  },
  'POST /api/assistant/runs/:id/approvals': {
    build: async (f) => {
      const { runId, approvalId } = await f.pausedRun();
      return {
        method: 'POST',
        path: `/api/assistant/runs/${runId}/approvals`,
        body: { decisions: [{ approvalId, approve: false, reason: 'matrix' }], resume: false },
      };
    },
  },
  'POST /api/assistant/mcp': {
    build: () => ({
      method: 'POST',
      path: '/api/assistant/mcp',
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      headers: { accept: 'application/json, text/event-stream' },
    }),
  },
  'GET /api/ops/overview': get('/api/ops/overview'),
  'GET /api/ops/charts': get('/api/ops/charts?minutes=1'),
  'GET /api/ops/alerts': get('/api/ops/alerts'),
  'GET /api/ops/breakers': get('/api/ops/breakers'),
  'GET /api/ops/sagas': get('/api/ops/sagas?limit=5'),
  'GET /api/ops/sagas/:id': {
    build: (f) => ({ method: 'GET', path: `/api/ops/sagas/${f.ownerSagaId}?service=orders` }),
  },
  'POST /api/ops/sagas/:id/resume': {
    build: (f) => ({
      method: 'POST',
      path: `/api/ops/sagas/${f.ownerSagaId}/resume`,
      body: { service: 'orders', note: 'matrix' },
    }),
    // Only a failed saga resumes; the owner's completed.
    allowedAnswer: [409, 'SAGA_INVALID_STATE'],
  },
  'GET /api/ops/dead-letters': get('/api/ops/dead-letters?limit=5'),
  'GET /api/ops/dead-letters/:id': {
    build: () => ({ method: 'GET', path: '/api/ops/dead-letters/no-such-dead-letter' }),
    // The shop has none to show; an admin is told so, everyone else is refused before.
    allowedAnswer: [404, 'NOT_FOUND'],
  },
  'POST /api/ops/dead-letters/replay': {
    build: () => ({
      method: 'POST',
      path: '/api/ops/dead-letters/replay',
      body: { ids: ['no-such-dead-letter'] },
    }),
  },
  'POST /api/ops/dead-letters/purge': {
    build: () => ({
      method: 'POST',
      path: '/api/ops/dead-letters/purge',
      body: { ids: ['no-such-dead-letter'] },
    }),
  },
  'GET /api/ops/events': get('/api/ops/events?limit=5'),
  'GET /api/ops/streams/:id': {
    build: (f) => ({ method: 'GET', path: `/api/ops/streams/${f.ownerOrderId}?service=orders` }),
  },
  'GET /api/ops/read-models/:name/:id': {
    build: (f) => ({ method: 'GET', path: `/api/ops/read-models/orders/${f.ownerOrderId}?service=orders` }),
  },
  'GET /api/ops/traces': get('/api/ops/traces?limit=5'),
  'GET /api/ops/traces/:traceId': { build: (f) => ({ method: 'GET', path: `/api/ops/traces/${f.traceId}` }) },
  'GET /api/ops/faults': get('/api/ops/faults'),
  // A transient fault fails one delivery of the group, which is then retried: nothing lost.
  'PUT /api/ops/faults/:group': {
    build: () => ({
      method: 'PUT',
      path: '/api/ops/faults/notifications',
      body: { mode: 'transient', remaining: 1 },
    }),
  },
  'DELETE /api/ops/faults/:group': {
    build: () => ({ method: 'DELETE', path: '/api/ops/faults/notifications' }),
  },
};
