import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { UserIdentity } from '../identity.js';
import { Agent } from '../loop/agent.js';
import { UnconfiguredModel } from '../providers/from-env.js';
import type { ModelProvider } from '../providers/provider.js';
import { ScriptedModel } from '../providers/scripted.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { createAgentRoutes } from './agent-routes.js';

interface Harness {
  url: string;
  agent: Agent;
  shop: ExampleShop;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Starts a real HTTP server; the "gateway" forwards the verified user as a JSON header. */
async function start(model: ModelProvider): Promise<Harness> {
  const shop = new ExampleShop();
  const agent = new Agent({ model, tools: createExampleShopTools(shop) });
  const routes = createAgentRoutes({
    agent,
    basePath: '/assistant',
    identify: (req) => {
      const header = req.headers['x-verified-user'];
      return typeof header === 'string' ? (JSON.parse(header) as UserIdentity) : undefined;
    },
    sse: { heartbeatMs: 0 },
  });
  const http = createServer((req, res) => {
    void routes.handle(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  server = http;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/assistant`, agent, shop };
}

const as = (user: UserIdentity, extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'x-verified-user': JSON.stringify(user),
  ...extra,
});

/** Reads an SSE response into its events (frames split on blank lines, as the spec says). */
async function sse(res: Response): Promise<Array<{ event: string; data: unknown }>> {
  const frames = (await res.text()).split('\n\n').filter((f) => f.trim() !== '' && !f.startsWith(':'));
  return frames.map((frame) => {
    const lines = frame.split('\n');
    const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
    const data = lines
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n');
    return { event, data: JSON.parse(data) };
  });
}

describe('assistant HTTP routes', () => {
  it('POST /chat answers with the run result as JSON', async () => {
    const h = await start(new ScriptedModel([{ text: 'Hello Alice.' }]));
    const res = await fetch(`${h.url}/chat`, {
      method: 'POST',
      headers: as(exampleUsers.alice),
      body: JSON.stringify({ message: 'hi' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'completed', text: 'Hello Alice.', steps: 1 });
    expect(body).not.toHaveProperty('transcript');
  });

  it('POST /chat streams text and tool events as SSE when asked', async () => {
    const h = await start(
      new ScriptedModel([
        { toolCalls: [{ name: 'stock_lookup', arguments: { sku: 'SKU-MUG' } }] },
        { text: '12 mugs left.' },
      ]),
    );
    const res = await fetch(`${h.url}/chat`, {
      method: 'POST',
      headers: as(exampleUsers.alice, { accept: 'text/event-stream' }),
      body: JSON.stringify({ message: 'mugs?' }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await sse(res);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('run-started');
    expect(names).toContain('tool-call');
    expect(names).toContain('tool-result');
    expect(events.at(-1)).toMatchObject({
      event: 'run-finished',
      data: { result: { status: 'completed', text: '12 mugs left.' } },
    });
    const text = events
      .flatMap((e) => (e.event === 'text-delta' ? [(e.data as { text: string }).text] : []))
      .join('');
    expect(text).toBe('12 mugs left.');
  });

  it('answers 503 with a clear message when no model is configured', async () => {
    const h = await start(new UnconfiguredModel());
    const res = await fetch(`${h.url}/chat`, {
      method: 'POST',
      headers: as(exampleUsers.alice),
      body: '{"message":"hi"}',
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; error: { code: string; message: string } };
    expect(body.status).toBe('failed');
    expect(body.error.code).toBe('AGENT_NO_MODEL_CONFIGURED');
    expect(body.error.message).toContain('No AI model is configured');
  });

  it('401 without an identity, 400 naming the field for a bad body, false for other paths', async () => {
    const h = await start(new ScriptedModel([]));
    const anon = await fetch(`${h.url}/chat`, { method: 'POST', body: '{"message":"hi"}' });
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const bad = await fetch(`${h.url}/chat`, {
      method: 'POST',
      headers: as(exampleUsers.alice),
      body: '{"message":""}',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: { issues: [{ path: 'message' }] } },
    });
    const notJson = await fetch(`${h.url}/chat`, {
      method: 'POST',
      headers: as(exampleUsers.alice),
      body: '{',
    });
    expect(notJson.status).toBe(400);
    const huge = await fetch(`${h.url}/chat`, {
      method: 'POST',
      headers: as(exampleUsers.alice),
      body: JSON.stringify({ message: 'x'.repeat(1_100_000) }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect((await fetch(`${h.url}/elsewhere`, { headers: as(exampleUsers.alice) })).status).toBe(404);
    expect(await h.agent.listRuns(exampleUsers.alice)).toEqual([]);
  });

  it('approval over HTTP: pause, list, inspect, approve and resume as a stream', async () => {
    const h = await start(
      new ScriptedModel([
        { toolCalls: [{ name: 'cancel_order', arguments: { orderId: 'o-alice-2' } }] },
        { text: 'Cancelled.' },
      ]),
    );
    const chat = await fetch(`${h.url}/chat`, {
      method: 'POST',
      headers: as(exampleUsers.alice),
      body: '{"message":"cancel"}',
    });
    const paused = (await chat.json()) as { runId: string; status: string; approvals: Array<{ id: string }> };
    expect(paused.status).toBe('awaiting_approval');

    const list = (await (
      await fetch(`${h.url}/runs?status=awaiting_approval`, { headers: as(exampleUsers.alice) })
    ).json()) as {
      runs: Array<{ id: string; pendingApprovals: number }>;
    };
    expect(list.runs).toEqual([expect.objectContaining({ id: paused.runId, pendingApprovals: 1 })]);
    const run = await fetch(`${h.url}/runs/${paused.runId}`, { headers: as(exampleUsers.alice) });
    expect(((await run.json()) as { messages: unknown[] }).messages).toHaveLength(2);
    expect((await fetch(`${h.url}/runs/${paused.runId}`, { headers: as(exampleUsers.bob) })).status).toBe(
      404,
    );

    const approve = await fetch(`${h.url}/runs/${paused.runId}/approvals`, {
      method: 'POST',
      headers: as(exampleUsers.alice),
      body: JSON.stringify({
        decisions: [{ approvalId: paused.approvals[0]?.id, approve: true }],
        stream: true,
      }),
    });
    const events = await sse(approve);
    expect(events.at(-1)).toMatchObject({ data: { result: { status: 'completed', text: 'Cancelled.' } } });
    expect(h.shop.orders.get('o-alice-2')?.status).toBe('cancelled');
    const again = await fetch(`${h.url}/runs/${paused.runId}/approvals`, {
      method: 'POST',
      headers: as(exampleUsers.alice),
      body: JSON.stringify({ decisions: [{ approvalId: paused.approvals[0]?.id, approve: true }] }),
    });
    expect(again.status).toBe(409);
  });

  it('a client that disconnects mid-stream cancels the run', { timeout: 30_000 }, async () => {
    const h = await start(new ScriptedModel([{ hang: true }]));
    const controller = new AbortController();
    const res = await fetch(`${h.url}/chat`, {
      method: 'POST',
      headers: as(exampleUsers.alice),
      body: '{"message":"hi","stream":true}',
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the first frame (run-started) has arrived: the run is in flight
    controller.abort();
    let runs = await h.agent.listRuns(exampleUsers.alice);
    for (let i = 0; i < 2_000 && runs[0]?.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      runs = await h.agent.listRuns(exampleUsers.alice);
    }
    expect(runs[0]?.status).toBe('failed');
    expect((await h.agent.getRun(runs[0]?.id ?? '', exampleUsers.alice)).error?.code).toBe('ABORTED');
  });
});
