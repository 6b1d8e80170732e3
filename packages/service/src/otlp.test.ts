import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { endpoint } from './endpoint.js';
import { route } from './route.js';
import { createService, type Service } from './service.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('OTLP export', () => {
  it('exports the spans of a request to the configured OTLP/HTTP collector', async () => {
    // A collector on loopback that keeps what it receives.
    const collector = Fastify();
    const received: string[] = [];
    collector.removeAllContentTypeParsers();
    collector.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    collector.post('/v1/traces', async (req) => {
      received.push(Buffer.from(req.body as Buffer).toString('latin1'));
      return {};
    });
    await collector.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => collector.close());
    const otlpEndpoint = `http://127.0.0.1:${(collector.server.address() as AddressInfo).port}`;

    const ping = endpoint({ method: 'GET', path: '/ping' });
    const service: Service = createService({
      name: 'exporter-test',
      logger: { level: 'silent' },
      tracing: { otlpEndpoint },
      routes: [route(ping, () => undefined)],
    });
    closers.push(() => service.shutdown());
    const url = await service.listen({ port: 0, signals: false });
    await fetch(`${url}/ping`, {
      headers: { traceparent: '00-11112222333344445555666677778888-1111222233334444-01' },
    });
    await service.tracing?.flush();
    const all = received.join('');
    expect(all).toContain('GET /ping');
    expect(all).toContain('exporter-test');
  });
});
