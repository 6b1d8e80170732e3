/**
 * One trace across real services on loopback: an HTTP request to `orders` starts a durable
 * saga (wrapped by `tracedSaga`) whose step calls `payments` over HTTP and publishes to a bus
 * that `notifications` consumes (through `tracedHandler`). Every span lands in its own
 * service's recorder and they join up: request → step → client → payments; step → consumer.
 * A saga resumed outside any request still joins the trace it was started in; probes and ops
 * calls are not recorded.
 */
import { InMemoryBus } from '@trellis/messaging';
import { defineSaga, MemorySagaStore, SagaRunner, TerminalStepError } from '@trellis/saga';
import {
  createService,
  currentTraceparent,
  endpoint,
  type RecordedSpan,
  route,
  type Service,
  type Tracing,
} from '@trellis/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OpsApi } from './ops-api.js';
import { isHousekeepingSpan } from './span-filter.js';
import { parseTraceparent, tracedHandler, tracedSaga } from './trace-hooks.js';

const chargeApi = endpoint({
  method: 'POST',
  path: '/charges',
  body: z.object({ orderId: z.string() }),
  response: z.object({ id: z.string() }),
});
const placeApi = endpoint({
  method: 'POST',
  path: '/orders',
  body: z.object({ orderId: z.string(), failShipping: z.boolean().default(false) }),
  response: z.object({ status: z.string() }),
});
const quiet = {
  logger: { level: 'silent' },
  accessLog: false as const,
  internalAuth: { mode: 'off' as const },
};

function buildSaga(o: { charge: (orderId: string) => Promise<unknown>; bus: InMemoryBus }) {
  return defineSaga('place-order', {
    input: z.object({ orderId: z.string(), failShipping: z.boolean() }),
  })
    .step({
      name: 'chargePayment',
      execute: async (ctx) => {
        await o.charge(ctx.orderId);
        await o.bus.publish(
          'order.paid',
          { orderId: ctx.orderId },
          {
            key: ctx.orderId,
            headers: { traceparent: currentTraceparent() as string },
          },
        );
        return { charged: true };
      },
      compensate: () => undefined,
    })
    .step({
      name: 'createShipment',
      execute: (ctx) => {
        if (ctx.failShipping) throw new TerminalStepError('no carrier');
        return {};
      },
    })
    .build();
}

describe('tracedSaga and tracedHandler', () => {
  const opsOf = {
    orders: new OpsApi({ service: 'orders' }),
    payments: new OpsApi({ service: 'payments' }),
    notifications: new OpsApi({ service: 'notifications' }),
  };
  const services: Service[] = [];
  const bus = new InMemoryBus();
  const consumed: string[] = [];
  const waiters: Array<() => void> = [];
  let orders: string;
  let runner: SagaRunner;
  let saga: ReturnType<typeof buildSaga>;
  const spans = () => Object.values(opsOf).flatMap((o) => o.recorder.trace(traceOf()));
  let lastTrace = '';
  const traceOf = () => lastTrace;

  const make = (name: keyof typeof opsOf, routes: Parameters<typeof createService>[0]['routes']) => {
    const service = createService({
      name,
      routes: [...(routes ?? []), ...opsOf[name].routes()],
      tracing: { recorder: opsOf[name].recorder },
      ...quiet,
    });
    opsOf[name].attach(service);
    services.push(service);
    return service;
  };

  beforeAll(async () => {
    const payments = make('payments', [route(chargeApi, ({ body }) => ({ id: `ch-${body.orderId}` }))]);
    const paymentsUrl = await payments.listen({ port: 0, host: '127.0.0.1', signals: false });
    const notifications = make('notifications', []);
    await bus.subscribe(
      'order.*',
      tracedHandler(notifications.tracing, 'notifications', (m) => {
        consumed.push(m.key ?? '');
        for (const w of waiters.splice(0)) w();
      }),
      { group: 'notifications' },
    );
    runner = new SagaRunner({ store: new MemorySagaStore() });
    const holder: { charge?: (orderId: string) => Promise<unknown> } = {};
    const service = make('orders', [
      route(placeApi, async ({ body }) => {
        const result = await runner.run(saga, body, {
          id: `order-${body.orderId}`,
          trace: { traceparent: currentTraceparent() as string },
        });
        return { status: result.status };
      }),
    ]);
    const client = service.createClient({
      name: 'payments',
      baseUrl: paymentsUrl,
      endpoints: { charge: chargeApi },
    });
    holder.charge = (orderId) => client.charge({ body: { orderId } });
    saga = tracedSaga(
      service.tracing,
      buildSaga({ charge: (id) => (holder.charge as (i: string) => Promise<unknown>)(id), bus }),
    );
    runner.register(saga);
    orders = await service.listen({ port: 0, host: '127.0.0.1', signals: false });
  });

  afterAll(async () => {
    await runner?.close();
    await bus.close();
    for (const s of services) await s.shutdown();
  });

  const place = async (orderId: string, failShipping = false) => {
    const res = await fetch(`${orders}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId, failShipping }),
    });
    expect(res.status).toBe(200);
    const traceparent = res.headers.get('traceparent');
    const server = opsOf.orders.recorder
      .recentTraces({ limit: 50 })
      .find((t) => t.rootName === 'POST /orders');
    lastTrace = parseTraceparent(traceparent)?.traceId ?? server?.traceId ?? '';
    return (await res.json()) as { status: string };
  };
  const consumedFor = async (orderId: string) => {
    while (!consumed.includes(orderId)) await new Promise<void>((r) => waiters.push(r));
  };
  const one = (list: RecordedSpan[], where: (s: RecordedSpan) => boolean, what: string) => {
    const found = list.filter(where);
    expect(found, what).toHaveLength(1);
    return found[0] as RecordedSpan;
  };

  it('joins request, saga step, the service it calls and the bus consumer in one trace', async () => {
    expect(await place('o-1')).toEqual({ status: 'completed' });
    await consumedFor('o-1');
    // The consumer span ends after the handler returns: wait for it to be recorded.
    while (!spans().some((s) => s.kind === 'consumer')) await new Promise((r) => setImmediate(r));
    const all = spans();
    const request = one(all, (s) => s.kind === 'server' && s.service === 'orders', 'orders server span');
    const step = one(all, (s) => s.name === 'saga place-order execute chargePayment', 'step span');
    expect(step).toMatchObject({
      service: 'orders',
      kind: 'internal',
      parentSpanId: request.spanId,
      status: 'unset',
      attributes: expect.objectContaining({
        'trellis.saga.id': 'order-o-1',
        'trellis.saga.step': 'chargePayment',
        'trellis.saga.phase': 'execute',
        'trellis.saga.attempt': 1,
      }),
    });
    const call = one(all, (s) => s.kind === 'client' && s.service === 'orders', 'client span');
    expect(call.parentSpanId).toBe(step.spanId);
    const charge = one(all, (s) => s.service === 'payments', 'payments span');
    expect(charge).toMatchObject({ kind: 'server', parentSpanId: call.spanId });
    const consumer = one(all, (s) => s.service === 'notifications', 'consumer span');
    expect(consumer).toMatchObject({
      kind: 'consumer',
      name: 'process order.paid',
      parentSpanId: step.spanId,
      attributes: expect.objectContaining({ 'messaging.consumer.group.name': 'notifications' }),
    });
    one(all, (s) => s.name === 'saga place-order execute createShipment', 'second step');
    expect(new Set(all.map((s) => s.traceId)).size).toBe(1);
  });

  it('records a failed step and the compensation it caused', async () => {
    expect(await place('o-2', true)).toEqual({ status: 'compensated' });
    const all = spans();
    expect(
      one(all, (s) => s.name === 'saga place-order execute createShipment', 'failed step'),
    ).toMatchObject({
      status: 'error',
      statusMessage: 'no carrier',
    });
    one(all, (s) => s.name === 'saga place-order compensate chargePayment', 'compensation');
  });

  it('puts the steps of a saga run outside any request under the trace it was started in', async () => {
    const traceId = 'ab'.repeat(16);
    const parent = 'cd'.repeat(8);
    const result = await runner.run(
      saga,
      { orderId: 'o-3', failShipping: false },
      { id: 'order-o-3', trace: { traceparent: `00-${traceId}-${parent}-01` } },
    );
    expect(result.status).toBe('completed');
    lastTrace = traceId;
    await consumedFor('o-3');
    const step = one(spans(), (s) => s.name === 'saga place-order execute chargePayment', 'step span');
    expect(step.parentSpanId).toBe(parent);
    expect(one(spans(), (s) => s.service === 'payments', 'payments span').traceId).toBe(traceId);
  });

  it('leaves a definition alone when there is no tracing', () => {
    const plain = buildSaga({ charge: async () => undefined, bus });
    expect(tracedSaga(undefined, plain)).toBe(plain);
    expect(tracedSaga({ recording: false } as Tracing, plain)).toBe(plain);
  });

  it('keeps probes, scrapes and ops calls out of the recorder, and what else is hidden', async () => {
    const before = opsOf.orders.recorder.size;
    for (const path of ['/health/ready', '/health/live', '/metrics', '/openapi.json'])
      await (await fetch(`${orders}${path}`)).text();
    expect(opsOf.orders.recorder.size).toBe(before);
    const span = (attributes: Record<string, unknown>, kind: RecordedSpan['kind'] = 'server') =>
      ({ kind, attributes }) as RecordedSpan;
    expect(isHousekeepingSpan(span({ 'http.route': '/ops/traces/:traceId' }))).toBe(true);
    expect(isHousekeepingSpan(span({ 'http.route': '/operations' }))).toBe(false);
    expect(isHousekeepingSpan(span({ 'url.path': '/health/ready' }))).toBe(true);
    expect(isHousekeepingSpan(span({ 'http.route': '/health' }, 'client'))).toBe(false);
    opsOf.payments.hideSpans((s) => s.attributes['trellis.upstream'] === 'console');
    opsOf.payments.recorder.record({
      ...span({ 'trellis.upstream': 'console' }),
      traceId: 'f'.repeat(32),
      spanId: '1'.repeat(16),
      name: 'GET ops',
      service: 'gateway',
      startMs: 0,
      durationMs: 1,
      status: 'unset',
      statusMessage: undefined,
      parentSpanId: undefined,
      events: [],
    });
    expect(opsOf.payments.recorder.trace('f'.repeat(32))).toEqual([]);
  });
});
