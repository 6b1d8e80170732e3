import { InternalTokenVerifier, SpanRecorder } from '@trellis/service';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from './config.js';
import { AUDIENCE, HS_SECRET, hsToken, ISSUER } from './fixtures/tokens.js';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway, type Gateway } from './gateway.js';

const INTERNAL = 'internal-identity-secret-of-32-bytes!!';
// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely in tests
const json = async (res: Response): Promise<any> => res.json();

const open: Array<Gateway | TestUpstream> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await ('app' in o ? o.close() : o.close());
});

async function setup(extra: Partial<GatewayConfigInput> = {}, options: { recorder?: SpanRecorder } = {}) {
  const orders = await startUpstream('orders');
  const catalog = await startUpstream('catalog');
  open.push(orders, catalog);
  const gateway = createGateway({
    logger: { level: 'silent' },
    recorder: options.recorder,
    config: {
      upstreams: { orders: { instances: [orders.url] }, catalog: { instances: [catalog.url] } },
      routes: [
        { prefix: '/api/catalog', upstream: 'catalog', auth: 'public', rewritePrefix: '' },
        {
          prefix: '/api/orders',
          upstream: 'orders',
          auth: { scopes: ['orders:read'] },
          methods: ['GET', 'POST'],
        },
        { prefix: '/api', upstream: 'catalog', auth: 'required' },
      ],
      auth: { issuer: ISSUER, audience: AUDIENCE, hs256Secret: HS_SECRET },
      identity: { internalTokenSecret: INTERNAL },
      accessLog: false,
      ...extra,
    },
  });
  open.push(gateway);
  const url = await gateway.listen({ port: 0 });
  return { gateway, url, orders, catalog };
}

describe('gateway routing and proxying', () => {
  it('routes by longest prefix on whole segments, rewrites prefixes, and answers 404/405 itself', async () => {
    const { url, orders, catalog } = await setup();
    const token = await hsToken();
    const a = await fetch(`${url}/api/catalog/items?sort=price`);
    expect(a.status).toBe(200);
    expect(await json(a)).toMatchObject({ upstream: 'catalog', url: '/items?sort=price' });
    const b = await fetch(`${url}/api/orders/7`, { headers: { authorization: `Bearer ${token}` } });
    expect(await json(b)).toMatchObject({ upstream: 'orders', url: '/api/orders/7' });
    const c = await fetch(`${url}/api/ordersx`, { headers: { authorization: `Bearer ${token}` } });
    expect(await json(c)).toMatchObject({ upstream: 'catalog', url: '/api/ordersx' });
    const none = await fetch(`${url}/elsewhere`);
    expect(none.status).toBe(404);
    expect((await json(none)).error.code).toBe('ROUTE_NOT_FOUND');
    const del = await fetch(`${url}/api/orders/7`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, POST');
    expect(orders.received).toHaveLength(1);
    expect(catalog.received).toHaveLength(2);
  });

  it('forwards bodies, query strings and statuses, and streams large answers', async () => {
    const { url, orders } = await setup();
    const token = await hsToken();
    orders.behave((r) =>
      r.method === 'POST'
        ? { status: 201, body: { got: JSON.parse(r.body) } }
        : { body: { big: 'x'.repeat(300_000) } },
    );
    const post = await fetch(`${url}/api/orders?dry=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'a', qty: 2 }),
    });
    expect(post.status).toBe(201);
    expect(await json(post)).toEqual({ got: { sku: 'a', qty: 2 } });
    expect(orders.received[0]).toMatchObject({ method: 'POST', url: '/api/orders?dry=1' });
    expect(orders.received[0]?.headers['content-length']).toBe(
      String(JSON.stringify({ sku: 'a', qty: 2 }).length),
    );
    const big = await fetch(`${url}/api/orders/big`, { headers: { authorization: `Bearer ${token}` } });
    expect((await json(big)).big).toHaveLength(300_000);
  });

  it('sets request id, traceparent, forwarding and identity headers; the internal token verifies', async () => {
    const { url, orders } = await setup();
    const token = await hsToken({ sub: 'alice', scope: 'orders:read orders:write', roles: ['customer'] });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${url}/api/orders/1`, {
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': 'req-abc',
        'x-correlation-id': 'checkout-1',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        'x-trellis-deadline-ms': '999999',
      },
    });
    expect(res.headers.get('x-request-id')).toBe('req-abc');
    const h = orders.received[0]?.headers ?? {};
    expect(h['x-request-id']).toBe('req-abc');
    expect(h['x-correlation-id']).toBe('checkout-1');
    expect(String(h.traceparent)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(h.traceparent).not.toContain('00f067aa0ba902b7');
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(new URL(url).host);
    expect(Number(h['x-trellis-deadline-ms'])).toBe(10_000); // the client may not extend the route budget
    expect(h['x-user-id']).toBe('alice');
    expect(h['x-user-scopes']).toBe('orders:read orders:write');
    expect(h.authorization).toBeUndefined();
    const identity = await new InternalTokenVerifier({ key: INTERNAL }).verify(
      String(h['x-trellis-identity']),
    );
    expect(identity).toEqual({
      subject: 'alice',
      kind: 'user',
      scopes: ['orders:read', 'orders:write'],
      roles: ['customer'],
    });
  });

  it('generates a request id and a new trace when none come in; public routes get an anonymous internal token', async () => {
    const { url, catalog } = await setup();
    const res = await fetch(`${url}/api/catalog/x`);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const h = catalog.received[0]?.headers ?? {};
    expect(h['x-request-id']).toBe(id);
    expect(String(h.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(h['x-user-id']).toBeUndefined();
    const identity = await new InternalTokenVerifier({ key: INTERNAL }).verify(
      String(h['x-trellis-identity']),
    );
    expect(identity.kind).toBe('anonymous');
  });

  it('keeps the X-Forwarded-For chain only from a trusted proxy', async () => {
    const { url, catalog } = await setup({ trustProxy: ['127.0.0.1'] });
    await fetch(`${url}/api/catalog/x`, {
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
    });
    const h = catalog.received[0]?.headers ?? {};
    expect(h['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('https');
    const untrusted = await setup({ trustProxy: ['10.0.0.0/8'] });
    await fetch(`${untrusted.url}/api/catalog/x`, {
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
    });
    const u = untrusted.catalog.received[0]?.headers ?? {};
    expect(u['x-forwarded-for']).toBe('127.0.0.1');
    expect(u['x-forwarded-proto']).toBe('http');
  });

  it('records the gateway hop as a span whose id the upstream sees as its parent', async () => {
    const recorder = new SpanRecorder();
    const { url, catalog } = await setup({}, { recorder });
    await fetch(`${url}/api/catalog/x`, {
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    const [span] = recorder.trace('0af7651916cd43dd8448eb211c80319c');
    expect(span).toMatchObject({
      service: 'gateway',
      kind: 'server',
      parentSpanId: 'b7ad6b7169203331',
      name: 'GET /api/catalog',
    });
    expect(String(catalog.received[0]?.headers.traceparent).split('-')[2]).toBe(span?.spanId);
  });

  it('serves its own health and an admin port with metrics and upstream status', async () => {
    const orders = await startUpstream('orders');
    open.push(orders);
    const gateway = createGateway({
      logger: { level: 'silent' },
      config: {
        upstreams: { orders: { instances: [orders.url] } },
        routes: [{ prefix: '/', upstream: 'orders', auth: 'public' }],
      },
    });
    open.push(gateway);
    const url = await gateway.listen({ port: 0, adminPort: 0 });
    expect((await fetch(`${url}/__gateway/health/ready`)).status).toBe(200);
    await fetch(`${url}/anything`);
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /gateway_requests_total\{route="\/",upstream="orders",status_class="2xx"[^}]*\} 1/,
    );
    expect(metrics).toContain('gateway_upstream_instance_available');
    expect(metrics).toContain('trellis_circuit_breaker_state');
    const status = await json(await fetch(`${gateway.adminUrl}/upstreams`));
    expect(status.orders[0]).toMatchObject({
      url: orders.url,
      healthy: true,
      ejected: false,
      breaker: 'CLOSED',
    });
  });
});
