import { Writable } from 'node:stream';
import { createLogger } from '@trellis/service';
import { afterEach, describe, expect, it } from 'vitest';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway } from './gateway.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('gateway lifecycle and access log', () => {
  it('close() lets a request in flight finish, refuses new connections, and reports its steps', async () => {
    const upstream: TestUpstream = await startUpstream('svc');
    closers.push(() => upstream.close());
    upstream.behave(() => ({ delayMs: 300, body: { done: true } }));
    const gateway = createGateway({
      logger: { level: 'silent' },
      config: {
        upstreams: { svc: { instances: [upstream.url] } },
        routes: [{ prefix: '/', upstream: 'svc', auth: 'public' }],
        accessLog: false,
      },
    });
    const url = await gateway.listen({ port: 0 });
    const inflight = fetch(`${url}/slow`);
    while (upstream.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    const report = await gateway.close();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(report.timedOut).toBe(false);
    expect(report.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['stop accepting', 'in-flight requests', 'http server']),
    );
    await expect(fetch(`${url}/again`)).rejects.toThrow();
  });

  it('writes one access log line per request with route, upstream, status, attempts and client', async () => {
    const upstream = await startUpstream('svc');
    closers.push(() => upstream.close());
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    const gateway = createGateway({
      logger: createLogger({ name: 'gateway', destination }),
      config: {
        upstreams: { svc: { instances: [upstream.url] } },
        routes: [{ prefix: '/api', upstream: 'svc', auth: 'public', name: 'api' }],
      },
    });
    closers.push(() => gateway.close());
    const url = await gateway.listen({ port: 0 });
    await fetch(`${url}/api/x`, { headers: { 'x-request-id': 'log-1' } });
    await fetch(`${url}/nowhere`, { headers: { 'x-request-id': 'log-2' } });
    expect(lines.find((l) => l.req_id === 'log-1')).toMatchObject({
      msg: 'proxied',
      method: 'GET',
      route: 'api',
      upstream: 'svc',
      instance: upstream.url,
      status: 200,
      attempts: 1,
      client: '127.0.0.1',
      service: 'gateway',
    });
    expect(lines.find((l) => l.req_id === 'log-2')).toMatchObject({ msg: 'refused', status: 404 });
  });
});
