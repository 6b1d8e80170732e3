/**
 * The assistant's tools in the authorization matrix, on a running shop with a scripted model
 * (the OpenAI simulator): which tools each role is offered, which wait for a human's
 * approval, that a customer's assistant cannot read or cancel another customer's order
 * (however the model is talked into trying), that an admin's can, and the same over MCP.
 */
import type { OpenAISimulator } from '@trellis/agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestShop } from '../e2e/test-shop.js';
import type { ShopApi } from '../load/shop-api.js';
import { sentToolResults } from '../services/assistant/testing-support.js';
import { TOOL_MATRIX } from './authorization-matrix.js';
import type { MatrixFixtures } from './authorization-requests.js';
import { type MatrixShop, type RunBody, scriptedCall, startMatrixShop } from './authorization-shop.js';
import { type RawResponse, send } from './raw-http.js';

let m: MatrixShop;
let t: TestShop;
let sim: OpenAISimulator;
let f: MatrixFixtures;
let owner: ShopApi;
let other: ShopApi;
let admin: ShopApi;
let otherId: string;
const call = scriptedCall;

beforeAll(async () => {
  m = await startMatrixShop();
  ({ t, sim, f, owner, other, admin, otherId } = m);
});

afterAll(async () => {
  await m?.stop();
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
