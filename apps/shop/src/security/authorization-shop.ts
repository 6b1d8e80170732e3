/**
 * The running shop the authorization tests check: every service and the gateway as processes,
 * the assistant on a scripted model (the OpenAI simulator), and the fixtures the matrix
 * addresses — an owner with a shipped order, a finished assistant run, its saga and trace;
 * another customer; the admin; a genuine internal service token — plus a client that sends a
 * request through the gateway as any of the matrix's callers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { OpenAISimulator, type SimTurn } from '@trellis/agent/testing';
import { expect } from 'vitest';
import { DEMO_ADDRESS } from '../demo-data.js';
import { eventually, startTestShop, type TestShop } from '../e2e/test-shop.js';
import type { ShopApi } from '../load/shop-api.js';
import { sagaIdOf } from '../services/orders/place-order-saga.js';
import type { MatrixRole } from './authorization-matrix.js';
import type { MatrixFixtures, MatrixRequest } from './authorization-requests.js';
import { genuineToken } from './forged-identities.js';
import { loopbackAddresses, type RawResponse, send } from './raw-http.js';

/** What a chat turn answers. */
export interface RunBody {
  runId: string;
  status: string;
  approvals?: Array<{ id: string; toolName: string }>;
}

/** A scripted model turn that calls one tool. */
export const scriptedCall = (name: string, input: Record<string, unknown>): SimTurn => ({
  toolCalls: [{ name, input }],
});

/** The shop under test and its callers. */
export interface MatrixShop {
  t: TestShop;
  sim: OpenAISimulator;
  f: MatrixFixtures;
  owner: ShopApi;
  other: ShopApi;
  admin: ShopApi;
  otherId: string;
  /** The Idempotency-Key the owner placed their order with. */
  ownerKey: string;
  /** Sends `r` through the gateway as `role`. */
  sendAs(role: MatrixRole, r: MatrixRequest): Promise<RawResponse>;
  stop(): Promise<void>;
}

/** Starts the shop and builds the fixtures (the owner's order has shipped and settled). */
export async function startMatrixShop(): Promise<MatrixShop> {
  const MODEL_KEY = `sk-matrix-${randomBytes(8).toString('hex')}`;
  const ownerKey = randomUUID();
  const call = scriptedCall;
  const addresses = loopbackAddresses(64);
  let nextAddress = 0;
  let owner: ShopApi;
  let other: ShopApi;
  let admin: ShopApi;
  let otherId: string;
  let tokens: Record<MatrixRole, string | undefined>;
  let f: MatrixFixtures;
  const sim = await OpenAISimulator.start({ apiKey: MODEL_KEY });
  let started: TestShop | undefined;
  try {
    started = await startTestShop({
      serviceEnv: {
        TRELLIS_AGENT_PROVIDER: 'openai',
        OPENAI_API_KEY: MODEL_KEY,
        OPENAI_BASE_URL: sim.url,
        OPENAI_MODEL: 'gpt-simulated',
      },
    });
    const t = started;
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
        const paused = await owner.post<RunBody>('/api/assistant/chat', {
          message: `Cancel ${ownerOrderId}`,
        });
        const approvalId = paused.body.approvals?.[0]?.id;
        if (paused.body.status !== 'awaiting_approval' || !approvalId)
          throw new Error(`expected a paused run, got ${JSON.stringify(paused.body)}`);
        return { runId: paused.body.runId, approvalId };
      },
      nextModelTurn: () => sim.enqueue({ text: 'Nothing else.' }),
    };
  } catch (error) {
    // Nothing is left running when the fixtures cannot be built.
    await started?.stop().catch(() => undefined);
    await sim.close();
    throw error;
  }
  const t = started;

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

  return {
    t,
    sim,
    f,
    owner,
    other,
    admin,
    otherId,
    ownerKey,
    sendAs,
    async stop() {
      await t.stop();
      await sim.close();
    },
  };
}
