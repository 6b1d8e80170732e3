import { afterEach, describe, expect, it } from 'vitest';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway, type Gateway } from './gateway.js';

const open: Array<Gateway | TestUpstream> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('CORS', () => {
  it('answers preflights at the gateway without auth, and adds allow headers for allowed origins only', async () => {
    const upstream = await startUpstream('svc');
    open.push(upstream);
    const gateway = createGateway({
      logger: { level: 'silent' },
      config: {
        upstreams: { svc: { instances: [upstream.url] } },
        routes: [{ prefix: '/', upstream: 'svc', auth: 'public' }],
        cors: { origins: ['https://shop.test'], credentials: true },
        accessLog: false,
      },
    });
    open.push(gateway);
    const url = await gateway.listen({ port: 0 });
    const pre = await fetch(`${url}/orders`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.test', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.test');
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    const bad = await fetch(`${url}/orders`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    expect(upstream.received).toHaveLength(0);
    const actual = await fetch(`${url}/orders`, { headers: { origin: 'https://shop.test' } });
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://shop.test');
    expect(actual.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const other = await fetch(`${url}/orders`, { headers: { origin: 'https://evil.test' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
