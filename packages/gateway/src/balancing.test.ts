import { ManualClock } from '@trellis/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from './config.js';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway, type Gateway } from './gateway.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely in tests
const json = async (res: Response): Promise<any> => res.json();
const open: Array<Gateway | TestUpstream> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

type UpstreamInput = GatewayConfigInput['upstreams'][string];

async function setup(
  n: number,
  upstream: Partial<UpstreamInput> = {},
  options: { clock?: ManualClock; random?: () => number } = {},
) {
  const instances: TestUpstream[] = [];
  for (let i = 0; i < n; i++) instances.push(await startUpstream(`i${i}`));
  open.push(...instances);
  const gateway = createGateway({
    logger: { level: 'silent' },
    clock: options.clock,
    random: options.random,
    config: {
      upstreams: { svc: { instances: instances.map((i) => i.url), ...upstream } },
      routes: [{ prefix: '/', upstream: 'svc', auth: 'public' }],
      accessLog: false,
    },
  });
  open.push(gateway);
  const url = await gateway.listen({ port: 0 });
  const hit = async (path = '/x', init: RequestInit = {}) => {
    const res = await fetch(`${url}${path}`, init);
    const body = res.headers.get('content-type')?.includes('json') ? await json(res) : undefined;
    return { status: res.status, body, headers: res.headers };
  };
  return { gateway, url, instances, hit };
}

const counts = (instances: TestUpstream[]) => instances.map((i) => i.received.length);

describe('load balancing', () => {
  it('round robin spreads requests evenly', async () => {
    const { instances, hit } = await setup(3, { balancer: 'round-robin' });
    for (let i = 0; i < 9; i++) await hit();
    expect(counts(instances)).toEqual([3, 3, 3]);
  });

  it('least-outstanding sends new requests to the idle instance while one is busy', async () => {
    const { instances, hit } = await setup(2, { balancer: 'least-outstanding' });
    instances[0]?.behave((r) => (r.url === '/slow' ? { delayMs: 300 } : {}));
    instances[1]?.behave((r) => (r.url === '/slow' ? { delayMs: 300 } : {}));
    const slow = hit('/slow');
    while (counts(instances).reduce((a, b) => a + b) === 0) await new Promise((r) => setTimeout(r, 5));
    const busy = instances.findIndex((i) => i.received.length === 1);
    for (let i = 0; i < 4; i++) await hit('/fast');
    await slow;
    expect(instances[1 - busy]?.received.filter((r) => r.url === '/fast')).toHaveLength(4);
  });

  it('P2C picks the less loaded of two random choices', async () => {
    // random() → 0 picks instance 0 first, then 0 again, which is replaced by the last one.
    const { instances, hit } = await setup(3, { balancer: 'p2c' }, { random: () => 0 });
    instances[0]?.behave((r) => (r.url === '/slow' ? { delayMs: 300 } : {}));
    const slow = hit('/slow');
    while (instances[0]?.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    await hit('/fast');
    await slow;
    expect(instances[2]?.received.map((r) => r.url)).toEqual(['/fast']);
  });
});

describe('retries', () => {
  it('retries an idempotent request on another instance after a 503, within the budget', async () => {
    const { instances, hit } = await setup(2, { balancer: 'round-robin', retry: { attempts: 2 } });
    instances[0]?.behave(() => ({ status: 503 }));
    const r = await hit('/x');
    expect(r.status).toBe(200);
    expect(r.body.upstream).toBe('i1');
    expect(counts(instances)).toEqual([1, 1]);
  });

  it('does not retry a POST without an Idempotency-Key, but does with one', async () => {
    const { instances, hit } = await setup(2, { balancer: 'round-robin', retry: { attempts: 2 } });
    instances[0]?.behave(() => ({ status: 503 }));
    const a = await hit('/x', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(a.status).toBe(503);
    expect(counts(instances)).toEqual([1, 0]);
    const b = await hit('/x', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' },
    });
    // round robin: this one starts on i1 (healthy) — send a third to land on i0 again.
    expect(b.status).toBe(200);
    const c = await hit('/x', {
      method: 'POST',
      body: '{"n":1}',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k2' },
    });
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ upstream: 'i1', body: '{"n":1}' });
    expect(instances[0]?.received.at(-1)?.body).toBe('{"n":1}');
  });

  it('stops retrying when the retry budget is spent', async () => {
    const { instances, hit } = await setup(2, {
      balancer: 'round-robin',
      retry: { attempts: 2, budgetRatio: 0.001, minRetriesPerSecond: 0.1 },
      outlier: { consecutiveFailures: 1000 },
      breaker: { failureThreshold: 1000 },
    });
    for (const i of instances) i.behave(() => ({ status: 503 }));
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await hit()).status);
    expect(statuses).toEqual([503, 503, 503, 503]);
    // one retry allowed in the 10 s window (0.1/s), so 5 attempts for 4 requests
    expect(counts(instances).reduce((a, b) => a + b)).toBe(5);
  });

  it('retries a refused connection even for a POST (nothing was sent)', async () => {
    const { instances, hit } = await setup(2, { balancer: 'round-robin', retry: { attempts: 2 } });
    await instances[0]?.close();
    const r = await hit('/x', { method: 'POST', body: 'a' });
    expect(r.status).toBe(200);
    expect(r.body.upstream).toBe('i1');
  });
});

describe('circuit breakers, outlier ejection and health checks', () => {
  it('opens an instance breaker after failures; traffic goes to the others until it recovers', async () => {
    const clock = new ManualClock(1_000_000);
    const { instances, hit, gateway } = await setup(
      2,
      {
        balancer: 'round-robin',
        retry: { attempts: 1 },
        breaker: { failureThreshold: 2, openMs: 5_000 },
        outlier: { consecutiveFailures: 1000 },
      },
      { clock },
    );
    instances[0]?.behave(() => ({ status: 502 }));
    for (let i = 0; i < 4; i++) await hit();
    expect(gateway.upstreams().svc?.[0]?.breaker).toBe('OPEN');
    const before = instances[0]?.received.length;
    for (let i = 0; i < 4; i++) expect((await hit()).status).toBe(200);
    expect(instances[0]?.received.length).toBe(before);
    instances[0]?.behave(() => ({}));
    await clock.advance(5_000);
    for (let i = 0; i < 4; i++) await hit();
    expect(gateway.upstreams().svc?.[0]?.breaker).toBe('CLOSED');
    expect(instances[0]?.received.length).toBeGreaterThan(before ?? 0);
  });

  it('ejects an instance after consecutive failures and re-admits it by itself after a back-off that grows', async () => {
    const clock = new ManualClock(1_000_000);
    const { instances, hit, gateway } = await setup(
      2,
      {
        balancer: 'round-robin',
        retry: { attempts: 1 },
        breaker: { failureThreshold: 1000 },
        outlier: { consecutiveFailures: 2, baseEjectionMs: 1_000, maxEjectionMs: 60_000 },
      },
      { clock },
    );
    instances[0]?.behave(() => ({ status: 503 }));
    for (let i = 0; i < 4; i++) await hit();
    expect(gateway.upstreams().svc?.[0]).toMatchObject({ ejected: true, ejectedForMs: 1_000, ejections: 1 });
    await clock.advance(1_000);
    expect(gateway.upstreams().svc?.[0]?.ejected).toBe(false);
    // still failing: ejected again, for twice as long
    for (let i = 0; i < 4; i++) await hit();
    expect(gateway.upstreams().svc?.[0]).toMatchObject({ ejected: true, ejectedForMs: 2_000, ejections: 2 });
    instances[0]?.behave(() => ({}));
    await clock.advance(2_000);
    for (let i = 0; i < 4; i++) expect((await hit()).status).toBe(200);
    expect(gateway.upstreams().svc?.[0]).toMatchObject({ ejected: false, ejections: 1 });
  });

  it('never ejects more than maxEjectedPercent of the instances', async () => {
    const { instances, hit, gateway } = await setup(2, {
      balancer: 'round-robin',
      retry: { attempts: 1 },
      breaker: { failureThreshold: 1000 },
      outlier: { consecutiveFailures: 1, maxEjectedPercent: 50 },
    });
    for (const i of instances) i.behave(() => ({ status: 503 }));
    for (let i = 0; i < 6; i++) await hit();
    const ejected = gateway.upstreams().svc?.filter((s) => s.ejected).length;
    expect(ejected).toBe(1);
  });

  it('active health checks take a failing instance out of rotation and bring it back', async () => {
    const { instances, hit, gateway } = await setup(2, {
      balancer: 'round-robin',
      healthCheck: {
        path: '/health/ready',
        intervalMs: 60_000,
        timeoutMs: 10_000,
        healthyThreshold: 1,
        unhealthyThreshold: 1,
      },
    });
    (instances[0] as TestUpstream).healthy = false;
    await gateway.checkHealthNow();
    expect(gateway.upstreams().svc?.[0]?.healthy).toBe(false);
    for (let i = 0; i < 4; i++) await hit('/x');
    expect(instances[0]?.received.filter((r) => r.url === '/x')).toHaveLength(0);
    (instances[0] as TestUpstream).healthy = true;
    await gateway.checkHealthNow();
    for (let i = 0; i < 4; i++) await hit('/x');
    expect(instances[0]?.received.filter((r) => r.url === '/x')).toHaveLength(2);
  });

  it('answers 503 NO_HEALTHY_UPSTREAM with Retry-After when every instance is out', async () => {
    const { instances, hit, gateway } = await setup(1, {
      healthCheck: { intervalMs: 3_000, timeoutMs: 10_000, healthyThreshold: 1, unhealthyThreshold: 1 },
    });
    (instances[0] as TestUpstream).healthy = false;
    await gateway.checkHealthNow();
    const r = await hit('/x');
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('NO_HEALTHY_UPSTREAM');
    expect(r.headers.get('retry-after')).toBe('3');
  });

  it('answers 504 when the upstream does not answer in time, and 502 when it cannot be reached', async () => {
    const { instances, hit } = await setup(1, { timeoutMs: 100, retry: { attempts: 1 } });
    instances[0]?.behave(() => ({ delayMs: 1_000 }));
    const slow = await hit('/x');
    expect(slow.status).toBe(504);
    expect(slow.body.error.code).toBe('UPSTREAM_TIMEOUT');
    await instances[0]?.close();
    const down = await hit('/x');
    expect(down.status).toBe(502);
    expect(down.body.error.code).toBe('BAD_GATEWAY');
  });
});
