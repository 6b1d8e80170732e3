/**
 * The aggregator over real service instances on loopback (each its own Fastify app with its
 * own ops API, breakers and span recorder): two replicas of `orders` sharing their stores, a
 * `payments` instance, a `shipping` instance that is down, and the gateway in-process. It
 * lists every replica with health and breakers, keeps answering when one instance is down,
 * reads shared data from one replica only, fails over to the other, and raises
 * `TrellisInstanceDown` for the dead one.
 */
import { createServer } from 'node:net';
import { ManualClock } from '@trellis/core';
import { InMemoryDeadLetterStore } from '@trellis/messaging';
import { CircuitBreaker } from '@trellis/resilience';
import { defineSaga, MemorySagaStore, SagaRunner } from '@trellis/saga';
import {
  createService,
  IDENTITY_TOKEN_HEADER,
  InternalTokenSigner,
  InternalTokenVerifier,
  type Service,
  ServiceMetrics,
} from '@trellis/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type InstanceStatus, OpsAggregator } from './ops-aggregator.js';
import { OpsApi } from './ops-api.js';
import { OPS_ROLE } from './ops-contract.js';
import { localTarget, remoteTarget } from './ops-targets.js';

const KEY = 'a-test-key-that-is-long-enough-for-hs256!';
const signer = new InternalTokenSigner({ key: KEY, ttlSeconds: 300 });
const internalAuth = { mode: 'required' as const, verifier: new InternalTokenVerifier({ key: KEY }) };
const quiet = { logger: { level: 'silent' }, accessLog: false as const };

interface Instance {
  ops: OpsApi;
  service: Service;
  url: string;
  breaker: CircuitBreaker;
}

/** One real instance: its own metrics, breaker board, recorder and ops API, listening on loopback. */
async function instance(
  name: string,
  replica: number,
  clock: ManualClock,
  shared: { sagas?: MemorySagaStore; deadLetters?: InMemoryDeadLetterStore },
  breakerName: string,
): Promise<Instance> {
  const ops = new OpsApi({ service: name, instance: replica ? `${name}#${replica}` : name, clock });
  const metrics = ops.board.watch(new ServiceMetrics({ serviceName: name, defaultMetrics: false }));
  const breaker = new CircuitBreaker({ name: breakerName, failureThreshold: 1, timeout: 3_600_000, clock });
  metrics.trackBreaker(breaker);
  const service = createService({
    name,
    routes: ops.routes(),
    metrics,
    tracing: { recorder: ops.recorder },
    internalAuth,
    idempotency: false,
    ...quiet,
  });
  ops.attach(service);
  if (shared.sagas) ops.provideSagas(shared.sagas);
  if (shared.deadLetters) ops.provideDeadLetters(shared.deadLetters);
  const url = await service.listen({ port: 0, host: '127.0.0.1', signals: false });
  return { ops, service, url, breaker };
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('OpsAggregator over replicas and a dead instance', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  const sagas = new MemorySagaStore();
  const deadLetters = new InMemoryDeadLetterStore({ clock, redeliver: async () => undefined });
  let orders0: Instance;
  let orders1: Instance;
  let payments: Instance;
  let gateway: OpsApi;
  let aggregator: OpsAggregator;
  let host: Service;
  let admin: string;

  const get = async (path: string) => {
    const res = await host.app.inject({
      method: 'GET',
      url: path,
      headers: { [IDENTITY_TOKEN_HEADER]: admin },
    });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };
  const instances = async () => (await get('/ops/overview')).body.instances as InstanceStatus[];

  beforeAll(async () => {
    orders0 = await instance('orders', 0, clock, { sagas, deadLetters }, 'payments');
    orders1 = await instance('orders', 1, clock, { sagas, deadLetters }, 'payments');
    payments = await instance('payments', 0, clock, {}, 'card-processor');
    gateway = new OpsApi({ service: 'gateway', clock });
    const gatewayMetrics = gateway.board.watch(
      new ServiceMetrics({ serviceName: 'gateway', defaultMetrics: false }),
    );
    aggregator = new OpsAggregator({
      targets: [
        localTarget({ ops: gateway, metrics: () => gatewayMetrics.text() }),
        remoteTarget({ id: 'orders', service: 'orders', url: orders0.url }),
        remoteTarget({ id: 'orders#1', service: 'orders', url: orders1.url }),
        remoteTarget({ id: 'payments', service: 'payments', url: payments.url }),
        remoteTarget({ id: 'shipping', service: 'shipping', url: `http://127.0.0.1:${await deadPort()}` }),
      ],
      identity: () => signer.sign({ subject: 'ops-console', kind: 'service', scopes: [], roles: [OPS_ROLE] }),
      clock,
    });
    host = createService({
      name: 'console',
      routes: aggregator.routes(),
      internalAuth,
      metrics: false,
      tracing: false,
      idempotency: false,
      ...quiet,
    });
    admin = await signer.sign({ subject: 'admin-1', kind: 'user', scopes: [], roles: ['admin'] });

    // What the replicas hold: one breaker open on replica 1, shared sagas and dead letters.
    await orders1.breaker.execute(() => Promise.reject(new Error('payments down'))).catch(() => undefined);
    const runner = new SagaRunner({ store: sagas });
    const saga = defineSaga('place-order', { input: z.object({ orderId: z.string() }) })
      .step({ name: 'reserve', execute: () => ({ reserved: true }) })
      .build();
    expect((await runner.run(saga, { orderId: 'o-1' }, { id: 'order-1' })).status).toBe('completed');
    await runner.close();
    await deadLetters.record({
      messageId: 'm-1',
      group: 'orders-read-model',
      pattern: 'order.*',
      topic: 'order.created',
      key: 'o-1',
      headers: {},
      payload: { orderId: 'o-1' },
      reason: 'failed',
      error: { name: 'Error', message: 'boom' },
      attempts: 3,
      publishedAt: clock.now(),
      firstAttemptAt: clock.now(),
      lastAttemptAt: clock.now(),
      transport: 'memory',
    });
    await aggregator.poll();
  });

  afterAll(async () => {
    await aggregator?.stop();
    await host?.shutdown();
    for (const i of [orders0, orders1, payments]) await i?.service.shutdown();
  });

  it('lists every replica with its own health and breakers, and the dead instance as down', async () => {
    const list = await instances();
    expect(list.map((i) => [i.id, i.service, i.up])).toEqual([
      ['gateway', 'gateway', true],
      ['orders', 'orders', true],
      ['orders#1', 'orders', true],
      ['payments', 'payments', true],
      ['shipping', 'shipping', false],
    ]);
    const byId = new Map(list.map((i) => [i.id, i]));
    // Each replica answered for itself.
    for (const id of ['orders', 'orders#1', 'payments'])
      expect(byId.get(id)?.info).toMatchObject({ health: { status: 'ready' } });
    expect(byId.get('shipping')).toMatchObject({ info: null, lastSeenAt: null });
    expect(byId.get('shipping')?.error).toMatch(/shipping: unreachable \(fetch failed: .*ECONNREFUSED/);
    expect(byId.get('orders')?.breakers.map((b) => [b.name, b.state])).toEqual([['payments', 'CLOSED']]);
    expect(byId.get('orders#1')?.breakers).toEqual([
      expect.objectContaining({
        name: 'payments',
        state: 'OPEN',
        transitions: [expect.objectContaining({ from: 'CLOSED', to: 'OPEN', reason: 'failureThreshold' })],
      }),
    ]);

    const breakers = (await get('/ops/breakers')).body.items as Array<Record<string, unknown>>;
    expect(breakers.map((b) => [b.instance, b.service, b.name, b.state])).toEqual([
      ['orders', 'orders', 'payments', 'CLOSED'],
      ['orders#1', 'orders', 'payments', 'OPEN'],
      ['payments', 'payments', 'card-processor', 'CLOSED'],
    ]);
  });

  it('reads data the replicas share from one of them only', async () => {
    const s = await get('/ops/sagas');
    expect((s.body.items as Array<{ id: string }>).map((x) => x.id)).toEqual(['order-1']);
    expect(s.body.errors).toEqual([]);
    const d = await get('/ops/dead-letters');
    expect(d.body).toMatchObject({ total: 1, errors: [] });
    expect((d.body.items as Array<{ service: string }>).map((x) => x.service)).toEqual(['orders']);
    // The instance's own refusal reaches the operator as it is, not as an upstream failure.
    const resume = await host.app.inject({
      method: 'POST',
      url: '/ops/sagas/order-1/resume',
      headers: { [IDENTITY_TOKEN_HEADER]: admin },
      payload: {},
    });
    expect(resume.statusCode).toBe(409);
    expect(resume.json()).toMatchObject({ error: { code: 'SAGA_INVALID_STATE' } });
    expect((await get('/ops/sagas/order-404')).status).toBe(404);
    const none = await get('/ops/sagas?service=payments');
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({
      error: { code: 'OPS_CAPABILITY_MISSING', message: 'No instance provides sagas of payments' },
    });
  });

  it('merges a trace whose spans were recorded by different replicas and the gateway', async () => {
    const traceId = 'a'.repeat(32);
    const span = (service: string, spanId: string, parent: string | undefined, startMs: number) => ({
      traceId,
      spanId,
      parentSpanId: parent,
      name: `${service} work`,
      kind: 'server' as const,
      service,
      startMs,
      durationMs: 5,
      status: 'ok' as const,
      statusMessage: undefined,
      attributes: {},
      events: [],
    });
    gateway.recorder.record(span('gateway', '1'.repeat(16), undefined, 1));
    orders0.ops.recorder.record(span('orders', '2'.repeat(16), '1'.repeat(16), 2));
    orders1.ops.recorder.record(span('orders', '3'.repeat(16), '2'.repeat(16), 3));
    const t = await get(`/ops/traces/${traceId}`);
    expect((t.body.spans as Array<{ spanId: string }>).map((s) => s.spanId[0])).toEqual(['1', '2', '3']);
    const list = await get(`/ops/traces?q=${traceId}`);
    expect(list.body.items).toEqual([
      expect.objectContaining({
        traceId,
        spanCount: 3,
        services: expect.arrayContaining(['gateway', 'orders']),
      }),
    ]);
  });

  it('raises TrellisInstanceDown for the dead instance once it has been down for a minute', async () => {
    const down = (alerts: Array<{ name: unknown }>) => alerts.filter((a) => a.name === 'TrellisInstanceDown');
    expect(down(aggregator.alerts.active())).toEqual([
      expect.objectContaining({
        state: 'pending',
        labels: expect.objectContaining({ instance: 'shipping' }),
      }),
    ]);
    await clock.advance(60_000);
    await aggregator.poll();
    const alerts = (await get('/ops/alerts')).body.active as Array<{ name: unknown }>;
    expect(down(alerts)).toEqual([
      expect.objectContaining({
        name: 'TrellisInstanceDown',
        state: 'firing',
        labels: expect.objectContaining({ instance: 'shipping', service: 'shipping' }),
      }),
    ]);
  });

  it('fails over to the other replica when one goes down', async () => {
    await orders0.service.shutdown();
    await clock.advance(3_000);
    await aggregator.poll();
    const list = await instances();
    expect(list.filter((i) => i.service === 'orders').map((i) => [i.id, i.up])).toEqual([
      ['orders', false],
      ['orders#1', true],
    ]);
    const s = await get('/ops/sagas');
    expect((s.body.items as Array<{ id: string }>).map((x) => x.id)).toEqual(['order-1']);
    const d = await get('/ops/dead-letters');
    expect(d.body).toMatchObject({ total: 1 });
    // Breakers are listed for instances that answered: a dead replica's are unknown.
    const breakers = (await get('/ops/breakers')).body.items as Array<Record<string, unknown>>;
    expect(breakers.map((b) => b.instance)).toEqual(['orders#1', 'payments']);
  });
});
