/**
 * The assistant service on its own: built in this process on a real SQLite file, called with
 * internal identity tokens signed like the gateway signs them, through Fastify's in-process
 * injection (it binds no port, so it can never squat one a concurrently starting test shop
 * picked). The services its tools would call are not running here (their addresses refuse
 * connections), which is what the tool-failure test wants.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAISimulator } from '@trellis/agent/testing';
import { isValidationError } from '@trellis/core';
import { type Identity, InternalTokenSigner, type Service } from '@trellis/service';
import { afterEach, describe, expect, it } from 'vitest';
import { shopConfigSchema } from '../../platform/shop-config.js';
import { createShopContext } from '../../platform/shop-service.js';
import { build } from './assistant-service.js';
import { SHOP_TOOL_NAMES } from './shop-tools.js';
import { sentToolResults } from './testing-support.js';

const SECRET = 'assistant-test-secret-'.padEnd(40, 'x');
const REFUSED = 'http://127.0.0.1:9'; // nothing listens on the discard port
const signer = new InternalTokenSigner({ key: SECRET });
const customer: Identity = { subject: 'cust-1', kind: 'user', scopes: [], roles: ['customer'] };
const service: Identity = { subject: 'orders', kind: 'service', scopes: [], roles: ['service'] };

let dir: string | undefined;
let running: Service | undefined;
let sim: OpenAISimulator | undefined;
afterEach(async () => {
  await running?.shutdown();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  running = undefined;
  sim = undefined;
  dir = undefined;
});

async function start(env: Record<string, string>): Promise<Service> {
  dir = mkdtempSync(join(tmpdir(), 'trellis-assistant-'));
  const config = shopConfigSchema.parse({
    DATA_DIR: dir,
    LOG_LEVEL: 'silent',
    INTERNAL_TOKEN_SECRET: SECRET,
    SHOP_UPSTREAMS: JSON.stringify({ orders: [REFUSED], catalog: [REFUSED], inventory: [REFUSED] }),
  });
  const ctx = await createShopContext('assistant', config);
  running = await build(ctx, env);
  return running;
}

/** The fields of the answers these tests read. */
interface Answer {
  error?: { code: string };
  model?: { provider: string; configured: boolean };
  tools?: Array<{ name: string }>;
  runs?: unknown[];
  status?: string;
  text?: string;
}

async function send(app: Service, path: string, who: Identity | undefined, body?: unknown) {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (who) headers['x-trellis-identity'] = await signer.sign(who);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.app.inject({
    method: body === undefined ? 'GET' : 'POST',
    url: path,
    headers,
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: res.json() as Answer };
}

describe('the assistant service', () => {
  it('refuses to start on a malformed model environment, naming the variable', async () => {
    const failure = await start({ TRELLIS_AGENT_PROVIDER: 'skynet' }).catch((e: unknown) => e);
    expect(isValidationError(failure)).toBe(true);
    expect((failure as Error).message).toContain('TRELLIS_AGENT_PROVIDER');
  });

  it('without a model: says so (503) and records nothing; everything else still answers', async () => {
    const app = await start({ TRELLIS_AGENT_PROVIDER: 'none' });
    const info = await send(app, '/assistant', customer);
    expect(info.body).toMatchObject({ model: { provider: 'none', configured: false } });
    expect(info.body.tools?.map((t) => t.name)).toEqual([...SHOP_TOOL_NAMES]);
    const chat = await send(app, '/assistant/chat', customer, { message: 'hi' });
    expect(chat).toMatchObject({ status: 503, body: { error: { code: 'AGENT_NO_MODEL_CONFIGURED' } } });
    expect((await send(app, '/assistant/runs', customer)).body).toEqual({ runs: [] });
    // Deciding without resuming needs no model: an unknown run is a plain 404.
    const decide = await send(app, '/assistant/runs/nope/approvals', customer, {
      decisions: [{ approvalId: 'a', approve: true }],
      resume: false,
    });
    expect(decide.status).toBe(404);
    expect((await send(app, '/assistant/nowhere', customer)).body.error?.code).toBe('ROUTE_NOT_FOUND');
  });

  it('refuses a query key given twice (400 naming it), as every typed route does', async () => {
    const app = await start({ TRELLIS_AGENT_PROVIDER: 'none' });
    const twice = await send(app, '/assistant/runs?limit=1&limit=500', customer);
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('limit'),
    });
    expect((await send(app, '/assistant/runs?limit=1', customer)).body).toEqual({ runs: [] });
  });

  it('serves people only: no token is 401 before anything runs, and so is a service’s token', async () => {
    const app = await start({ TRELLIS_AGENT_PROVIDER: 'none' });
    expect((await send(app, '/assistant/runs', undefined)).status).toBe(401);
    expect((await send(app, '/assistant/runs', service)).status).toBe(401);
    expect((await send(app, '/assistant', service)).status).toBe(401);
    const mcp = await send(app, '/assistant/mcp', service, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(mcp.status).toBe(401);
  });

  it('reports a service that does not answer to the model as SHOP_UNAVAILABLE, and finishes the turn', async () => {
    sim = await OpenAISimulator.start({
      apiKey: 'sk-local',
      script: [
        { toolCalls: [{ name: 'search_products', input: { query: 'kettle' } }] },
        { text: 'The catalog is down, sorry.' },
      ],
    });
    const app = await start({ OPENAI_API_KEY: 'sk-local', OPENAI_BASE_URL: sim.url, OPENAI_MODEL: 'm' });
    const chat = await send(app, '/assistant/chat', customer, { message: 'Any kettles?' });
    expect(chat.body).toMatchObject({ status: 'completed', text: 'The catalog is down, sorry.' });
    const [result] = sentToolResults(sim.requests[1]?.body as Record<string, unknown>);
    expect(result).toMatchObject({ name: 'search_products', errorCode: 'SHOP_UNAVAILABLE' });
    expect(JSON.stringify(result?.value)).not.toContain('127.0.0.1');
  });
});
