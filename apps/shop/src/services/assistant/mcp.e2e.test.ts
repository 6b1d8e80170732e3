/**
 * The shop's MCP server end to end, with the SDK's own client: over Streamable HTTP behind the
 * gateway's authentication (`/api/assistant/mcp`), and over stdio (the `npm run mcp` entry
 * spawned as a real process, reaching the running shop through its gateway as one user). The
 * shop here has no model configured, which the assistant must say plainly while MCP, which
 * needs no model, keeps working.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { ToolRegistry } from '@trellis/agent';
import { ManualClock } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADDRESS, DEMO_USERS } from '../../demo-data.js';
import { startTestShop, type TestShop } from '../../e2e/test-shop.js';
import type { ShopApi } from '../../load/shop-api.js';
import { GatewaySession, parseMcpStdioEnv } from './gateway-session.js';
import { gatewayClients } from './shop-clients.js';
import { createShopTools, SHOP_TOOL_NAMES } from './shop-tools.js';

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const stdioEntry = fileURLToPath(new URL('./mcp-stdio.ts', import.meta.url));

type Content = Array<{ type: string; text?: string }>;
const textOf = (result: unknown) => JSON.parse((result as { content: Content }).content[0]?.text ?? 'null');
const errorCodeOf = (result: unknown) => (textOf(result) as { error?: { code: string } })?.error?.code;

let t: TestShop;
let gateway: string;
let alice: ShopApi;
let aliceOrderId: string;
let bob: ShopApi;
let bobId: string;
let bobOrderId: string;
const clients: Client[] = [];

async function order(api: ShopApi, productId: string): Promise<string> {
  const res = await api.request<{ id: string }>('POST', '/api/orders', {
    body: {
      items: [{ productId, quantity: 1 }],
      shippingAddress: DEMO_ADDRESS,
      paymentMethod: 'pm_card_visa',
    },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  // Explicitly no model, whatever keys the machine running the tests may have set.
  t = await startTestShop({ serviceEnv: { TRELLIS_AGENT_PROVIDER: 'none' } });
  gateway = t.shop.topology.gatewayUrl;
  alice = await t.login('alice');
  aliceOrderId = await order(alice, 'p-scale');
  ({ api: bob, userId: bobId } = await t.signup());
  bobOrderId = await order(bob, 'p-pour-over');
});

afterAll(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  await t?.stop();
});

describe('the assistant without a model', () => {
  it('answers 503 AGENT_NO_MODEL_CONFIGURED, saying what to set, and records no run', async () => {
    const res = await alice.post<{ error: { code: string; message: string } }>('/api/assistant/chat', {
      message: 'Hello?',
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('AGENT_NO_MODEL_CONFIGURED');
    expect(res.body.error.message).toMatch(/ANTHROPIC_API_KEY.*OPENAI_API_KEY.*TRELLIS_AGENT_BASE_URL/);
    const streamed = await alice.request('POST', '/api/assistant/chat', {
      body: { message: 'Hello?' },
      headers: { accept: 'text/event-stream' },
    });
    expect(streamed.status).toBe(503);
    const runs = await alice.get<{ runs: unknown[] }>('/api/assistant/runs');
    expect(runs.body.runs).toEqual([]);
    const info = await alice.get<{ model: { configured: boolean }; tools: Array<{ name: string }> }>(
      '/api/assistant',
    );
    expect(info.body.model.configured).toBe(false);
    expect(info.body.tools.map((x) => x.name)).toEqual([...SHOP_TOOL_NAMES]);
  });
});

describe('MCP over Streamable HTTP, behind the gateway', () => {
  const url = () => new URL(`${gateway}/api/assistant/mcp`);
  async function connect(token: string): Promise<Client> {
    const client = new Client({ name: 'e2e-http-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(url(), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(client);
    return client;
  }

  it('refuses a client without a token (401 from the gateway)', async () => {
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    // The SDK client surfaces the gateway's answer: status 401 and the typed error.
    await expect(connect('not-a-token')).rejects.toMatchObject({
      code: 401,
      message: expect.stringContaining('UNAUTHORIZED'),
    });
  });

  it('lists the tools with their full schemas and calls them with the user’s own permissions', async () => {
    const client = await connect(alice.token ?? '');
    const { tools } = await client.listTools();
    const expected = new ToolRegistry(createShopTools(gatewayClients(gateway))).specs();
    expect(
      tools.map((x) => ({ name: x.name, description: x.description, inputSchema: x.inputSchema })),
    ).toEqual(expected);
    expect(Object.keys(tools.find((x) => x.name === 'search_orders')?.inputSchema.properties ?? {})).toEqual([
      'customerId',
      'status',
      'query',
      'limit',
    ]);

    const kettle = await client.callTool({ name: 'search_products', arguments: { query: 'kettle' } });
    expect(textOf(kettle).products).toEqual([expect.objectContaining({ id: 'p-kettle', price: '€79.00' })]);
    const mine = await client.callTool({ name: 'search_orders', arguments: {} });
    expect(textOf(mine).orders.map((o: { id: string }) => o.id)).toContain(aliceOrderId);
    expect(textOf(mine).orders.map((o: { id: string }) => o.id)).not.toContain(bobOrderId);

    const snoop = await client.callTool({ name: 'search_orders', arguments: { customerId: bobId } });
    expect(snoop.isError).toBe(true);
    expect(errorCodeOf(snoop)).toBe('FORBIDDEN');
    const peek = await client.callTool({ name: 'get_order', arguments: { orderId: bobOrderId } });
    expect(errorCodeOf(peek)).toBe('NOT_FOUND');
    // Stateless HTTP cannot ask a human, so approval-gated tools are refused, and nothing changes.
    const cancel = await client.callTool({ name: 'cancel_order', arguments: { orderId: aliceOrderId } });
    expect(errorCodeOf(cancel)).toBe('TOOL_APPROVAL_REQUIRED');
    const bad = await client.callTool({ name: 'stock_lookup', arguments: { productIds: [] } });
    expect(errorCodeOf(bad)).toBe('TOOL_INVALID_ARGUMENTS');
  });
});

describe('MCP over stdio, through the gateway as one user', { timeout: 120_000 }, () => {
  function transport(env: Record<string, string>): StdioClientTransport {
    return new StdioClientTransport({
      command: process.execPath,
      args: ['--conditions=source', '--import', 'tsx', stdioEntry],
      cwd: repoRoot,
      env: { ...getDefaultEnvironment(), TRELLIS_SHOP_URL: gateway, ...env },
      stderr: 'pipe',
    });
  }

  it('logs in, lists and calls tools as that user, and asks the human before cancelling', async () => {
    const answers = [true, false];
    const prompts: string[] = [];
    const client = new Client(
      { name: 'e2e-stdio-client', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      prompts.push(request.params.message);
      return { action: 'accept', content: { approve: answers.shift() ?? false } };
    });
    clients.push(client);
    await client.connect(
      transport({
        TRELLIS_SHOP_EMAIL: DEMO_USERS.alice.email,
        TRELLIS_SHOP_PASSWORD: t.shop.secrets.demo.alice,
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name)).toEqual([...SHOP_TOOL_NAMES]);

    const mine = await client.callTool({ name: 'search_orders', arguments: { status: 'shipped' } });
    expect(textOf(mine).orders.map((o: { id: string }) => o.id)).toContain(aliceOrderId);
    const stock = await client.callTool({
      name: 'stock_lookup',
      arguments: { productIds: ['p-scale', 'p-nope'] },
    });
    expect(textOf(stock)).toMatchObject({
      stock: [expect.objectContaining({ productId: 'p-scale', inStock: true })],
      unknownProductIds: ['p-nope'],
    });
    const snoop = await client.callTool({ name: 'get_order', arguments: { orderId: bobOrderId } });
    expect(errorCodeOf(snoop)).toBe('NOT_FOUND');

    // Approved: the orders service itself answers (the order has shipped, so it refuses).
    const approved = await client.callTool({ name: 'cancel_order', arguments: { orderId: aliceOrderId } });
    expect(errorCodeOf(approved)).toBe('ORDER_STATE');
    // Declined: nothing is called.
    const declined = await client.callTool({ name: 'cancel_order', arguments: { orderId: aliceOrderId } });
    expect(errorCodeOf(declined)).toBe('TOOL_REJECTED');
    expect(prompts).toEqual([
      `Approve this action? Cancel order ${aliceOrderId}`,
      `Approve this action? Cancel order ${aliceOrderId}`,
    ]);
    expect((await alice.get<{ status: string }>(`/api/orders/${aliceOrderId}`)).body.status).toBe('shipped');
  });

  it('renews a logged-in token before it expires (a desktop client runs for days)', async () => {
    const clock = new ManualClock(Date.now());
    const session = await GatewaySession.open(
      parseMcpStdioEnv({
        TRELLIS_SHOP_URL: gateway,
        TRELLIS_SHOP_EMAIL: DEMO_USERS.alice.email,
        TRELLIS_SHOP_PASSWORD: t.shop.secrets.demo.alice,
      }),
      clock,
    );
    await session.headers();
    expect(session.renewals).toBe(0);
    await clock.advance(56 * 60_000); // shop tokens last an hour; renewal starts 5 minutes before
    await session.headers();
    expect(session.renewals).toBe(1);
    expect((await session.user()).roles).toEqual(['customer']);
  });

  it('exits with code 77 and says why when the shop refuses the login', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', stdioEntry], {
      cwd: repoRoot,
      env: {
        ...getDefaultEnvironment(),
        TRELLIS_SHOP_URL: gateway,
        TRELLIS_SHOP_EMAIL: DEMO_USERS.alice.email,
        TRELLIS_SHOP_PASSWORD: 'wrong-password',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(77);
    expect(stderr).toContain(`refused the login of ${DEMO_USERS.alice.email}`);
    expect(stdout).toBe(''); // stdout is the protocol's alone
  });
});
