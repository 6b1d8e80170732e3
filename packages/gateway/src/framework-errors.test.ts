/**
 * A path the router cannot decode is refused in the Trellis error shape, like every other
 * refusal, and never reaches the upstream (Fastify's default answer named its internal code).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './fixtures/raw-http.js';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway, type Gateway } from './gateway.js';

let upstream: TestUpstream;
let gateway: Gateway;
let url: string;
beforeAll(async () => {
  upstream = await startUpstream('orders');
  gateway = createGateway({
    logger: { level: 'silent' },
    config: {
      upstreams: { orders: { instances: [upstream.url] } },
      routes: [{ prefix: '/public', upstream: 'orders', auth: 'public' }],
      accessLog: false,
    },
  });
  url = await gateway.listen({ port: 0 });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe('undecodable paths', () => {
  it.each(['/public/%ff', '/public/%E0%A4%A', '/public/a%'])(
    '%s is 400 INVALID_PATH, Trellis-shaped',
    async (path) => {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body).toEqual({ error: { code: 'INVALID_PATH', message: 'Invalid request path' } });
      expect(JSON.stringify(body)).not.toContain('FST_');
      expect(upstream.received).toEqual([]);
    },
  );
});

describe('requests Node’s parser refuses', () => {
  it('headers over the limit are 431 HEADERS_TOO_LARGE, Trellis-shaped, connection closed', async () => {
    const res = await fetch(`${url}/public/x?q=${'a'.repeat(20_000)}`);
    expect(res.status).toBe(431);
    expect(await res.json()).toEqual({
      error: { code: 'HEADERS_TOO_LARGE', message: 'Request headers too large' },
    });
    expect(upstream.received).toEqual([]);
  });

  it('malformed framing is 400 BAD_REQUEST, Trellis-shaped', async () => {
    const res = await rawRequest(url, ['GET /public/x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n']);
    expect(res.status).toBe(400);
    expect(res.text).toContain('{"error":{"code":"BAD_REQUEST","message":"Malformed HTTP request"}}');
    expect(res.closed).toBe(true);
  });
});
