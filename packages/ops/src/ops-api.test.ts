/**
 * The ops API of one instance over a real service (its HTTP routes, auth and validation), with
 * real stores behind it: a saga runner whose saga fails and is resumed, a bus whose consumer
 * dead-letters through an armed fault and is replayed, an event store, a read model.
 */
import { InMemoryEventStore } from '@trellis/eventstore';
import { InMemoryBus } from '@trellis/messaging';
import { defineSaga, MemorySagaStore, SagaRunner } from '@trellis/saga';
import {
  createService,
  IDENTITY_TOKEN_HEADER,
  InternalTokenSigner,
  InternalTokenVerifier,
  type Service,
} from '@trellis/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isInjectedFaultError } from './errors.js';
import { OpsApi } from './ops-api.js';

const KEY = 'a-test-key-that-is-long-enough-for-hs256!';
const signer = new InternalTokenSigner({ key: KEY, ttlSeconds: 300 });

describe('OpsApi', () => {
  const ops = new OpsApi({ service: 'orders', instance: 'orders#1', version: '1.2.3' });
  const bare = new OpsApi({ service: 'users' });
  const bus = new InMemoryBus();
  const events = new InMemoryEventStore();
  const sagas = new MemorySagaStore();
  const runner = new SagaRunner({ store: sagas });
  const handled: string[] = [];
  let undoWorks = false;
  const saga = defineSaga('place-order', { input: z.object({ orderId: z.string() }) })
    .step({
      name: 'reserve',
      execute: () => ({ reserved: true }),
      compensate: () => {
        if (!undoWorks) throw new Error('inventory unreachable');
      },
      compensation: { retry: { maxAttempts: 1 } },
    })
    .step({
      name: 'charge',
      execute: () => {
        throw Object.assign(new Error('declined'), { code: 'PAYMENT_DECLINED', status: 402 });
      },
    })
    .build();
  let service: Service;
  let users: Service;
  let tokens: { admin: string; ops: string; customer: string };

  const call = async (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: object,
    who = tokens.ops,
    on = service,
  ) => {
    const res = await on.app.inject({
      method,
      url,
      headers: { [IDENTITY_TOKEN_HEADER]: who },
      ...(body ? { payload: body } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: answers are inspected loosely in tests
    return { status: res.statusCode, body: res.json() as Record<string, any> };
  };

  beforeAll(async () => {
    const internalAuth = { mode: 'required' as const, verifier: new InternalTokenVerifier({ key: KEY }) };
    const quiet = { logger: { level: 'silent' }, accessLog: false as const, idempotency: false as const };
    service = createService({
      name: 'orders',
      routes: ops.routes(),
      tracing: { recorder: ops.recorder },
      internalAuth,
      ...quiet,
    });
    users = createService({ name: 'users', routes: bare.routes(), internalAuth, ...quiet });
    ops.attach(service).provideSagas(sagas, runner).provideEvents(events).provideDeadLetters(bus.deadLetters);
    ops.provideReadModel('orders', async (id) => (id === 'o-1' ? { id, status: 'shipped' } : undefined));
    bare.attach(users);
    await bus.subscribe(
      'order.*',
      ops.faults.wrap('notifications', (m) => {
        handled.push(m.id);
      }),
      { group: 'notifications' },
    );
    tokens = {
      admin: await signer.sign({ subject: 'a', kind: 'user', scopes: [], roles: ['admin'] }),
      ops: await signer.sign({ subject: 'console', kind: 'service', scopes: [], roles: ['ops'] }),
      customer: await signer.sign({ subject: 'c', kind: 'user', scopes: [], roles: ['customer'] }),
    };
  });

  afterAll(async () => {
    await runner.close();
    await bus.close();
    await service.shutdown();
    await users.shutdown();
  });

  it('is for admins and the ops role only', async () => {
    expect((await call('GET', '/ops/info', undefined, tokens.customer)).status).toBe(403);
    expect((await service.app.inject({ method: 'GET', url: '/ops/info' })).statusCode).toBe(401);
    expect((await call('GET', '/ops/info', undefined, tokens.admin)).status).toBe(200);
  });

  it('describes the instance, its health and what it can answer', async () => {
    const { body } = await call('GET', '/ops/info');
    expect(body).toMatchObject({
      service: 'orders',
      instance: 'orders#1',
      version: '1.2.3',
      pid: process.pid,
      health: { status: 'ready' },
      capabilities: {
        breakers: true,
        sagas: true,
        deadLetters: true,
        events: true,
        readModels: ['orders'],
        traces: true,
        faults: ['notifications'],
      },
    });
    expect(body.uptimeMs).toBeGreaterThanOrEqual(0);
  });

  it('answers 404 OPS_CAPABILITY_MISSING for what an instance does not have', async () => {
    for (const path of ['/ops/sagas', '/ops/dead-letters', '/ops/events', '/ops/read-models/orders/x']) {
      const r = await call('GET', path, undefined, tokens.ops, users);
      expect(r, path).toMatchObject({ status: 404, body: { error: { code: 'OPS_CAPABILITY_MISSING' } } });
    }
    expect((await call('PUT', '/ops/faults/nobody', { mode: 'poison' })).body.error.code).toBe(
      'OPS_CAPABILITY_MISSING',
    );
  });

  it('lists sagas by status, shows a timeline and resumes a failed saga', async () => {
    const first = await runner.run(saga, { orderId: 'o-9' }, { id: 'order-o-9' });
    expect(first.status).toBe('failed'); // the charge failed and so did undoing the reservation
    const failed = await call('GET', '/ops/sagas?status=failed');
    expect(failed.body.counts).toMatchObject({ failed: 1 });
    expect(failed.body.items.map((s: { id: string }) => s.id)).toEqual(['order-o-9']);
    expect((await call('GET', '/ops/sagas?q=O-9')).body.items).toHaveLength(1);
    expect((await call('GET', '/ops/sagas?status=completed')).body.items).toEqual([]);
    expect((await call('GET', '/ops/sagas?status=lost')).status).toBe(400);

    const timeline = await call('GET', '/ops/sagas/order-o-9');
    expect(timeline.body.instance).toMatchObject({ id: 'order-o-9', status: 'failed' });
    expect(timeline.body.steps.map((s: { step: string; status: string }) => [s.step, s.status])).toEqual([
      ['reserve', 'compensation_failed'],
      ['charge', 'failed'],
    ]);

    undoWorks = true;
    const resumed = await call('POST', '/ops/sagas/order-o-9/resume', {}, tokens.admin);
    expect(resumed.body.resumed).toBe(true);
    const result = await runner.run(saga, { orderId: 'o-9' }, { id: 'order-o-9' });
    expect(result.status).toBe('compensated');
    const events = (await call('GET', '/ops/sagas/order-o-9')).body.events as Array<{
      kind: string;
      note?: string;
    }>;
    expect(events.find((e) => e.kind === 'operator_resumed')?.note).toBe('resumed by a from the console');
    expect(events.at(-1)?.kind).toBe('saga_compensated');
    const again = await call('POST', '/ops/sagas/order-o-9/resume', {}, tokens.admin);
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'SAGA_INVALID_STATE' } } });
    expect((await call('GET', '/ops/sagas/nope')).status).toBe(404);
  });

  it('dead-letters through an armed fault, then replays and purges', async () => {
    const armed = await call('PUT', '/ops/faults/notifications', { mode: 'poison', remaining: 2 });
    expect(armed.body.armed).toMatchObject({
      group: 'notifications',
      mode: 'poison',
      remaining: 2,
      injected: 0,
    });
    for (const id of ['o-1', 'o-2', 'o-3']) await bus.publish('order.paid', { orderId: id }, { key: id });
    const list = async (q = '') => (await call('GET', `/ops/dead-letters${q}`)).body;
    await expect.poll(async () => (await list()).total).toBe(2);
    // The fault disarmed itself after two messages: the third was handled.
    expect((await call('GET', '/ops/faults')).body).toEqual({ groups: ['notifications'], armed: [] });
    expect(handled).toHaveLength(1);
    const [dl] = (await list('?key=o-1')).items as Array<{
      id: string;
      error: { code: string };
      reason: string;
    }>;
    expect(dl).toMatchObject({ reason: 'failed', error: { code: 'FAULT_INJECTED' } });
    expect((await call('GET', `/ops/dead-letters/${dl?.id}`)).body.payload).toEqual({ orderId: 'o-1' });

    expect((await call('POST', '/ops/dead-letters/replay', {})).status).toBe(400); // no selection: refused
    expect((await call('POST', '/ops/dead-letters/replay', { ids: [dl?.id] })).body).toEqual({ replayed: 1 });
    await expect.poll(() => handled.length).toBe(2);
    expect((await call('POST', '/ops/dead-letters/purge', { group: 'notifications' })).body).toEqual({
      purged: 1,
    });
    expect((await list()).total).toBe(0);
    expect((await call('GET', '/ops/dead-letters/gone')).status).toBe(404);
  });

  it('keeps a transient fault retryable and disarms on request', async () => {
    await call('PUT', '/ops/faults/notifications', { mode: 'transient' });
    const wrapped = ops.faults.wrap('notifications', () => undefined);
    const thrown = await Promise.resolve()
      .then(() => wrapped({ id: 'm', topic: 't', payload: {}, headers: {} } as never, {} as never))
      .catch((e) => e);
    expect(isInjectedFaultError(thrown) && thrown.retryable).toBe(true);
    expect((await call('DELETE', '/ops/faults/notifications')).body).toEqual({ disarmed: true });
    expect((await call('DELETE', '/ops/faults/notifications')).body).toEqual({ disarmed: false });
  });

  it('pages through the event log newest first and shows one stream with its read model', async () => {
    await events.append(
      'o-1',
      [
        {
          eventType: 'OrderCreated',
          payload: { total: 5 },
          metadata: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
        },
        { eventType: 'OrderPaid', payload: {} },
      ],
      { aggregateType: 'order' } as never,
    );
    await events.append('o-2', [{ eventType: 'OrderCreated', payload: { total: 7 } }], {
      aggregateType: 'order',
    } as never);
    const page1 = await call('GET', '/ops/events?limit=2');
    expect(page1.body.head).toBe(3);
    expect(page1.body.items.map((e: { position: number }) => e.position)).toEqual([3, 2]);
    const page2 = await call('GET', '/ops/events?limit=2&before=2');
    expect(page2.body.items.map((e: { position: number }) => e.position)).toEqual([1]);
    const stream = await call('GET', '/ops/streams/o-1');
    expect(stream.body).toMatchObject({ id: 'o-1', version: 2 });
    expect(stream.body.items[0]).toMatchObject({
      eventType: 'OrderCreated',
      version: 1,
      traceId: 'a'.repeat(32),
    });
    expect((await call('GET', '/ops/streams/o-404')).status).toBe(404);
    expect((await call('GET', '/ops/read-models/orders/o-1')).body).toEqual({
      name: 'orders',
      id: 'o-1',
      row: { id: 'o-1', status: 'shipped' },
    });
    expect((await call('GET', '/ops/read-models/orders/o-2')).status).toBe(404);
  });

  it('finds recorded traces by id, attribute or name', async () => {
    const traceId = 'c'.repeat(32);
    ops.recorder.record({
      traceId,
      spanId: 'd'.repeat(16),
      parentSpanId: undefined,
      name: 'POST /orders',
      kind: 'server',
      service: 'orders',
      startMs: Date.now(),
      durationMs: 3,
      status: 'error',
      statusMessage: 'boom',
      attributes: { 'trellis.correlation_id': 'corr-42', 'http.route': '/orders' },
      events: [],
    });
    for (const q of [traceId, 'corr-42'])
      expect(
        (await call('GET', `/ops/traces?q=${q}`)).body.items.map((t: { traceId: string }) => t.traceId),
      ).toEqual([traceId]);
    expect((await call('GET', '/ops/traces?q=corr-43')).body.items).toEqual([]);
    expect(
      (await call('GET', '/ops/traces?errorsOnly=true')).body.items.map(
        (t: { traceId: string }) => t.traceId,
      ),
    ).toContain(traceId);
    expect((await call('GET', `/ops/traces/${traceId}`)).body.spans).toHaveLength(1);
    expect((await call('GET', '/ops/traces/not-hex')).status).toBe(400);
  });
});
