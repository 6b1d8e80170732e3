/**
 * The assistant in distributed mode: two assistant replicas behind the gateway sharing their
 * runs in PostgreSQL (the rest of the shop on PostgreSQL, NATS and Redis from the test
 * harness). A run paused by one process is approved and resumed by another (both replicas are
 * killed and restarted in between); MCP over HTTP, stateless, works against either replica.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { OpenAISimulator } from '@trellis/agent/testing';
import { serverUrl } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADDRESS } from '../../demo-data.js';
import { eventually, startTestShop, type TestShop } from '../../e2e/test-shop.js';
import { sentToolResults } from './testing-support.js';

const postgres = serverUrl('postgres');
const nats = serverUrl('nats');
const redis = serverUrl('redis');

describe.skipIf(!postgres || !nats || !redis)('the assistant with two replicas on PostgreSQL', () => {
  let t: TestShop;
  let sim: OpenAISimulator;

  beforeAll(async () => {
    sim = await OpenAISimulator.start({ apiKey: 'sk-simulated' });
    t = await startTestShop({
      mode: 'distributed',
      env: { ...process.env, DATABASE_URL: postgres, NATS_URL: nats, REDIS_URL: redis },
      databasePrefix: `assistant_${process.pid}_${Date.now()}`,
      replicas: { assistant: 2 },
      serviceEnv: { OPENAI_API_KEY: 'sk-simulated', OPENAI_BASE_URL: sim.url, OPENAI_MODEL: 'gpt-simulated' },
    });
  });

  afterAll(async () => {
    await t?.stop();
    await sim?.close();
  });

  it('resumes a paused run in another process, and serves MCP from either replica', async () => {
    const { api: dave } = await t.signup();
    const placed = await dave.request<{ id: string; status: string }>('POST', '/api/orders', {
      body: {
        items: [{ productId: 'p-decaf-beans', quantity: 1 }],
        shippingAddress: DEMO_ADDRESS,
        paymentMethod: 'pm_card_visa',
      },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(placed.body.status).toBe('shipped');
    const orderId = placed.body.id;

    sim.enqueue({ toolCalls: [{ name: 'cancel_order', input: { orderId } }] });
    const paused = await dave.post<{ runId: string; status: string; approvals: Array<{ id: string }> }>(
      '/api/assistant/chat',
      { message: `Cancel order ${orderId}` },
    );
    expect(paused.body.status).toBe('awaiting_approval');

    // Both replicas die and come back as new processes: the run lives in PostgreSQL.
    const replicas = [0, 1].map((r) => t.shop.supervisor.process('assistant', r));
    const before = replicas.map((p) => p.restarts);
    for (const p of replicas) p.signal('SIGKILL');
    await eventually(async () => replicas.every((p, i) => p.restarts > (before[i] ?? 0) && p.ready), 60_000);
    await eventually(async () => (await dave.get(`/api/assistant/runs/${paused.body.runId}`)).status === 200);

    sim.enqueue((body) => {
      const [result] = sentToolResults(body);
      return { text: `The shop says: ${result?.errorCode}.` };
    });
    const resumed = await dave.post<{ status: string; text: string }>(
      `/api/assistant/runs/${paused.body.runId}/approvals`,
      { decisions: [{ approvalId: paused.body.approvals[0]?.id, approve: true }] },
    );
    // The real orders service refuses: the order has already shipped.
    expect(resumed.body).toMatchObject({ status: 'completed', text: 'The shop says: ORDER_STATE.' });

    const client = new Client({ name: 'e2e-distributed', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.shop.topology.gatewayUrl}/api/assistant/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${dave.token}` } },
      }),
    );
    try {
      // Several stateless calls, balanced over both replicas.
      for (let i = 0; i < 4; i++) {
        const result = await client.callTool({ name: 'get_order', arguments: { orderId } });
        const text = (result.content as Array<{ text: string }>)[0]?.text ?? '';
        expect(JSON.parse(text)).toMatchObject({ id: orderId, status: 'shipped' });
      }
    } finally {
      await client.close();
    }
  });
});
