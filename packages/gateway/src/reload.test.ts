import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidationError } from '@trellis/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from './config.js';
import { loadGatewayConfigFile, parseGatewayConfig } from './config-file.js';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway, type Gateway } from './gateway.js';

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const config = (a: TestUpstream, b: TestUpstream, prefix = '/v1'): GatewayConfigInput => ({
  upstreams: { a: { instances: [a.url] }, b: { instances: [b.url] } },
  routes: [{ prefix, upstream: 'a', auth: 'public' }],
  accessLog: false,
});

describe('configuration', () => {
  it('names every invalid field', () => {
    let error: unknown;
    try {
      parseGatewayConfig({
        upstreams: { a: { instances: ['not a url'] } },
        routes: [{ prefix: 'no-slash', upstream: 'missing' }],
        rateLimit: { store: 'redis' },
      });
    } catch (e) {
      error = e;
    }
    expect(isValidationError(error)).toBe(true);
    const paths = (error as { issues: Array<{ path: string }> }).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['upstreams.a.instances.0', 'routes.0.prefix']));
    expect(() =>
      parseGatewayConfig({
        upstreams: { a: { instances: ['http://x:1'] } },
        routes: [{ prefix: '/', upstream: 'b' }],
      }),
    ).toThrow(/unknown upstream "b"/);
    expect(() =>
      parseGatewayConfig({
        upstreams: { a: { instances: ['http://x:1'] } },
        routes: [{ prefix: '/', upstream: 'a' }],
      }),
    ).toThrow(/needs the auth section/);
  });

  it('applies defaults', () => {
    const c = parseGatewayConfig({
      upstreams: { a: { instances: ['http://x:1'] } },
      routes: [{ prefix: '/', upstream: 'a', auth: 'public' }],
    });
    expect(c.upstreams.a).toMatchObject({
      balancer: 'p2c',
      timeoutMs: 10_000,
      retry: { attempts: 2 },
      breaker: { failureThreshold: 5 },
    });
    expect(c).toMatchObject({ bodyLimit: 1024 * 1024, headersTimeoutMs: 10_000, trustProxy: false });
  });
});

describe('hot reload', () => {
  it('swaps routes atomically, keeps instance state, and rejects an invalid config without changing anything', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const gateway: Gateway = createGateway({ logger: { level: 'silent' }, config: config(a, b) });
    closers.push(() => gateway.close());
    const url = await gateway.listen({ port: 0 });
    expect((await fetch(`${url}/v1/x`)).status).toBe(200);
    const breakerBefore = gateway.upstreams().a;
    await gateway.reload({
      ...config(a, b, '/v2'),
      routes: [{ prefix: '/v2', upstream: 'b', auth: 'public' }],
    });
    expect((await fetch(`${url}/v1/x`)).status).toBe(404);
    const v2 = (await (await fetch(`${url}/v2/x`)).json()) as { upstream: string };
    expect(v2.upstream).toBe('b');
    expect(gateway.upstreams().a).toEqual(breakerBefore);
    await expect(
      gateway.reload({ upstreams: {}, routes: [] } as unknown as GatewayConfigInput),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect((await fetch(`${url}/v2/x`)).status).toBe(200);
  });

  it('follows a JSON config file and ignores invalid versions', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const dir = mkdtempSync(join(tmpdir(), 'trellis-gw-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify(config(a, b)));
    const gateway = createGateway({ logger: { level: 'silent' }, config: loadGatewayConfigFile(file) });
    closers.push(() => gateway.close());
    const url = await gateway.listen({ port: 0 });
    const stop = gateway.watchConfigFile(file);
    closers.push(stop);
    writeFileSync(file, '{ not json');
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${url}/v1/x`)).status).toBe(200);
    writeFileSync(file, JSON.stringify(config(a, b, '/v3')));
    for (let i = 0; i < 50 && (await fetch(`${url}/v3/x`)).status !== 200; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${url}/v3/x`)).status).toBe(200);
    expect((await fetch(`${url}/v1/x`)).status).toBe(404);
  });
});
