import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { UserIdentity } from '../identity.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { checkToolSchemas, ToolRegistry } from '../tools/registry.js';
import { createMcpHttpHandler } from './mcp-http.js';
import { identityFromEnv } from './mcp-stdio.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const stdioServer = fileURLToPath(new URL('./fixtures/example-stdio-server.ts', import.meta.url));

type Content = Array<{ type: string; text?: string }>;
const textOf = (result: unknown) => JSON.parse((result as { content: Content }).content[0]?.text ?? 'null');

/** The registry the servers expose, for comparing what clients see. */
const expectedTools = new ToolRegistry(createExampleShopTools(new ExampleShop()));

describe('MCP over Streamable HTTP (stateless) with the SDK client', () => {
  let http: Server | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    http?.closeAllConnections();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  });

  /** The "gateway" verified a bearer token; here a token names a known user. */
  const tokens: Record<string, UserIdentity> = {
    'alice-token': exampleUsers.alice,
    'bob-token': exampleUsers.bob,
  };
  async function start(shop = new ExampleShop()): Promise<URL> {
    const handler = createMcpHttpHandler({
      tools: createExampleShopTools(shop),
      identify: (req) => tokens[(req.headers.authorization ?? '').replace(/^Bearer /, '')],
    });
    const server = createServer((req, res) => void handler(req, res));
    http = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  }
  async function connect(url: URL, token: string): Promise<Client> {
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(client);
    return client;
  }

  it('lists the tools with their full JSON Schemas (no empty properties)', async () => {
    const client = await connect(await start(), 'alice-token');
    const { tools } = await client.listTools();
    expect(
      tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
    ).toEqual(expectedTools.specs());
    const search = tools.find((t) => t.name === 'search_orders');
    expect(Object.keys(search?.inputSchema.properties ?? {})).toEqual(['customerId', 'status']);
    expect(checkToolSchemas(expectedTools)).toEqual([]);
  });

  it('calls tools as the authenticated user, and only as that user', async () => {
    const shop = new ExampleShop();
    const url = await start(shop);
    const [alice, bob] = await Promise.all([connect(url, 'alice-token'), connect(url, 'bob-token')]);
    const [aliceOrders, bobOrders] = await Promise.all([
      alice.callTool({ name: 'search_orders', arguments: {} }),
      bob.callTool({ name: 'search_orders', arguments: {} }),
    ]);
    expect(textOf(aliceOrders).map((o: { id: string }) => o.id)).toEqual(['o-alice-1', 'o-alice-2']);
    expect(textOf(bobOrders).map((o: { id: string }) => o.id)).toEqual(['o-bob-1']);
    const snoop = await alice.callTool({ name: 'search_orders', arguments: { customerId: 'bob' } });
    expect(snoop.isError).toBe(true);
    expect(textOf(snoop).error.code).toBe('FORBIDDEN');
    const peek = await alice.callTool({ name: 'get_order', arguments: { orderId: 'o-bob-1' } });
    expect(textOf(peek).error.code).toBe('NOT_FOUND');
    expect(shop.calls.map((c) => c.actingFor).sort()).toEqual(['alice', 'bob']);
  });

  it('returns invalid arguments as a tool error the model can correct; unknown tools as a protocol error', async () => {
    const client = await connect(await start(), 'alice-token');
    const bad = await client.callTool({ name: 'stock_lookup', arguments: { sku: 'mug' } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad).error).toMatchObject({
      code: 'TOOL_INVALID_ARGUMENTS',
      details: { issues: [{ path: 'sku' }] },
    });
    await expect(client.callTool({ name: 'drop_tables', arguments: {} })).rejects.toThrow(
      /Unknown tool: drop_tables/,
    );
  });

  it('refuses approval-gated tools it cannot ask a human about', async () => {
    const shop = new ExampleShop();
    const client = await connect(await start(shop), 'alice-token');
    const result = await client.callTool({ name: 'cancel_order', arguments: { orderId: 'o-alice-2' } });
    expect(textOf(result).error.code).toBe('TOOL_APPROVAL_REQUIRED');
    expect(shop.orders.get('o-alice-2')?.status).toBe('pending');
  });

  it('rejects an unauthenticated client with 401, and GET with 405 (no sessions)', async () => {
    const url = await start();
    await expect(connect(url, 'stolen-token')).rejects.toThrow(/401|Authentication required/);
    const get = await fetch(url, {
      headers: { authorization: 'Bearer alice-token', accept: 'text/event-stream' },
    });
    expect(get.status).toBe(405);
    const init = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: 'Bearer alice-token',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    expect(init.status).toBe(200);
    expect(init.headers.get('mcp-session-id')).toBeNull();
  });
});

// Each test spawns a real child process (tsx compiles on start): allow for a loaded CI machine.
describe('MCP over stdio with the SDK client (a real child process)', { timeout: 90_000 }, () => {
  async function connect(user: UserIdentity, onApproval?: (message: string) => boolean): Promise<Client> {
    const client = new Client(
      { name: 'test-client', version: '1.0.0' },
      onApproval ? { capabilities: { elicitation: { form: {} } } } : {},
    );
    if (onApproval) {
      client.setRequestHandler(ElicitRequestSchema, async (request) => ({
        action: 'accept',
        content: { approve: onApproval(request.params.message) },
      }));
    }
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--conditions=source', '--import', 'tsx', stdioServer],
      cwd: repoRoot,
      env: { ...getDefaultEnvironment(), TRELLIS_MCP_USER: JSON.stringify(user) },
      stderr: 'pipe',
    });
    await client.connect(transport);
    return client;
  }

  it('lists and calls tools for the configured user; asks the human before an approval-gated call', async () => {
    const prompts: string[] = [];
    const client = await connect(exampleUsers.alice, (message) => {
      prompts.push(message);
      return true;
    });
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual([
        'search_orders',
        'get_order',
        'stock_lookup',
        'cancel_order',
      ]);
      expect(tools[0]?.inputSchema).toEqual(expectedTools.get('search_orders')?.inputSchema);
      const orders = await client.callTool({ name: 'search_orders', arguments: { status: 'pending' } });
      expect(textOf(orders)).toEqual([expect.objectContaining({ id: 'o-alice-2', customerId: 'alice' })]);
      const denied = await client.callTool({ name: 'search_orders', arguments: { customerId: 'bob' } });
      expect(textOf(denied).error.code).toBe('FORBIDDEN');
      const cancelled = await client.callTool({ name: 'cancel_order', arguments: { orderId: 'o-alice-2' } });
      expect(prompts).toEqual(['Approve this action? Cancel order o-alice-2']);
      expect(textOf(cancelled)).toMatchObject({ id: 'o-alice-2', status: 'cancelled' });
    } finally {
      await client.close();
    }
  });

  it('a declined approval leaves everything as it was', async () => {
    const client = await connect(exampleUsers.alice, () => false);
    try {
      const result = await client.callTool({ name: 'cancel_order', arguments: { orderId: 'o-alice-2' } });
      expect(textOf(result).error.code).toBe('TOOL_REJECTED');
      const still = await client.callTool({ name: 'get_order', arguments: { orderId: 'o-alice-2' } });
      expect(textOf(still).status).toBe('pending');
    } finally {
      await client.close();
    }
  });

  it('a user without a permission is not even offered the tool', async () => {
    const client = await connect({ id: 'dave', permissions: [] });
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['stock_lookup']);
      const result = await client.callTool({ name: 'search_orders', arguments: {} });
      expect(textOf(result).error.code).toBe('FORBIDDEN');
    } finally {
      await client.close();
    }
  });
});

describe('identityFromEnv', () => {
  it('parses the identity and names the variable when it is missing or malformed', () => {
    expect(identityFromEnv('U', { U: '{"id":"alice","permissions":["orders:read"]}' })).toEqual({
      id: 'alice',
      permissions: ['orders:read'],
    });
    expect(() => identityFromEnv('U', {})).toThrow(/"U": is not set/);
    expect(() => identityFromEnv('U', { U: '{"id":""}' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});
