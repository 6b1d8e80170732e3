import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from './endpoint.js';
import { InternalTokenSigner, InternalTokenVerifier } from './internal-token.js';
import { createLogger } from './logger.js';
import { route } from './route.js';
import { createService, type Service } from './service.js';
import { type RecordedSpan, SpanRecorder } from './span-recorder.js';
import { createTracing, currentTraceparent, injectContext, withRemoteContext } from './tracing.js';

const secret = 'an-internal-token-secret-of-32-bytes!';
const seen = endpoint({
  method: 'GET',
  path: '/seen',
  response: z.object({
    traceparent: z.string().nullable(),
    correlationId: z.string(),
    subject: z.string().nullable(),
    deadlineMs: z.number().nullable(),
  }),
});
const front = endpoint({ method: 'GET', path: '/front', response: z.object({ downstream: seen.response }) });

const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.shutdown('test')));
});

function logSink() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, stream };
}

describe('trace, correlation, identity and deadline propagation', () => {
  it('carries all four from an incoming request through a typed client to the next service, and records one trace', async () => {
    const recorder = new SpanRecorder();
    const verifier = new InternalTokenVerifier({ key: secret });
    const back = createService({
      name: 'back',
      logger: { level: 'silent' },
      tracing: { recorder },
      internalAuth: { mode: 'required', verifier },
      routes: [
        route(seen, ({ ctx }) => ({
          traceparent: trace.getActiveSpan() ? (currentTraceparent() ?? null) : null,
          correlationId: ctx.correlationId,
          subject: ctx.identity?.subject ?? null,
          deadlineMs: ctx.deadline === undefined ? null : ctx.deadline - Date.now(),
        })),
      ],
    });
    services.push(back);
    const backUrl = await back.listen({ port: 0, signals: false });
    const logs = logSink();
    const frontService = createService({
      name: 'front',
      logger: createLogger({ name: 'front', destination: logs.stream }),
      tracing: { recorder },
      internalAuth: { mode: 'required', verifier },
      routes: [
        route(front, async ({ ctx }) => {
          ctx.log.info('calling back');
          return { downstream: await client.seen() };
        }),
      ],
    });
    services.push(frontService);
    const client = frontService.createClient({ name: 'back', baseUrl: backUrl, endpoints: { seen } });
    const frontUrl = await frontService.listen({ port: 0, signals: false });
    const token = await new InternalTokenSigner({ key: secret }).sign({
      subject: 'u7',
      kind: 'user',
      scopes: [],
      roles: [],
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${frontUrl}/front`, {
      headers: {
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        'x-correlation-id': 'checkout-42',
        'x-trellis-identity': token,
        'x-trellis-deadline-ms': '3000',
      },
    });
    expect(res.status).toBe(200);
    const { downstream } = (await res.json()) as { downstream: z.infer<typeof seen.response> };
    expect(downstream.traceparent?.split('-')[1]).toBe(traceId);
    expect(downstream.correlationId).toBe('checkout-42');
    expect(downstream.subject).toBe('u7');
    expect(downstream.deadlineMs).toBeGreaterThan(0);
    expect(downstream.deadlineMs).toBeLessThanOrEqual(3000);

    const spans = recorder.trace(traceId);
    const names = spans.map((s) => `${s.service}:${s.kind}:${s.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'front:server:GET /front',
        'front:client:GET back/seen',
        'back:server:GET /seen',
      ]),
    );
    const byName = (n: string) => spans.find((s) => s.name === n) as RecordedSpan;
    expect(byName('GET /front').parentSpanId).toBe('00f067aa0ba902b7');
    expect(byName('GET back/seen').parentSpanId).toBe(byName('GET /front').spanId);
    expect(byName('GET /seen').parentSpanId).toBe(byName('GET back/seen').spanId);
    expect(recorder.recentTraces({ limit: 1 })[0]).toMatchObject({
      traceId,
      services: expect.arrayContaining(['front', 'back']),
    });

    const handlerLine = logs.lines.find((l) => l.msg === 'calling back');
    expect(handlerLine?.trace_id).toBe(traceId);
    const access = logs.lines.find((l) => l.msg === 'request' && l.route === '/front');
    expect(access).toMatchObject({
      trace_id: traceId,
      correlation_id: 'checkout-42',
      status: 200,
      caller: 'u7',
    });
  });
});

describe('Tracing helpers', () => {
  it('wraps db, bus and saga work in spans that join the current trace, marking failures', async () => {
    const recorder = new SpanRecorder();
    const tracing = createTracing({ serviceName: 'orders', recorder });
    const carrier: Record<string, string> = {};
    await tracing.withSpan('place order', async () => {
      await tracing.db('insert', async () => 1, { 'db.system.name': 'sqlite' });
      await tracing.bus('publish', 'order.placed', async () => injectContext(carrier));
      await expect(
        tracing.saga('checkout', 'charge', async () => Promise.reject(new Error('card declined'))),
      ).rejects.toThrow();
    });
    // A consumer elsewhere continues the trace from the message headers.
    await tracing.bus('process', 'order.placed', async () => undefined, { carrier });
    const root = recorder.recentTraces()[0];
    expect(root?.spanCount).toBe(5);
    expect(root?.error).toBe(true);
    const spans = recorder.trace(root?.traceId ?? '');
    const kinds = Object.fromEntries(spans.map((s) => [s.name, s.kind]));
    expect(kinds).toMatchObject({
      'place order': 'internal',
      'db insert': 'client',
      'publish order.placed': 'producer',
      'saga checkout execute charge': 'internal',
      'process order.placed': 'consumer',
    });
    const consumer = spans.find((s) => s.name === 'process order.placed');
    const producer = spans.find((s) => s.name === 'publish order.placed');
    expect(consumer?.parentSpanId).toBe(producer?.spanId);
    const saga = spans.find((s) => s.name.startsWith('saga'));
    expect(saga).toMatchObject({ status: 'error', statusMessage: 'card declined' });
    expect(saga?.attributes).toMatchObject({
      'trellis.saga.name': 'checkout',
      'trellis.saga.step': 'charge',
    });
    await tracing.shutdown();
  });

  it('records nothing without an exporter or recorder, but still propagates trace ids', async () => {
    const tracing = createTracing({ serviceName: 'quiet' });
    expect(tracing.recording).toBe(false);
    const parent = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    const inner = await withRemoteContext(parent, () =>
      tracing.withSpan('work', async () => currentTraceparent()),
    );
    expect(inner?.split('-')[1]).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('SpanRecorder keeps only the newest spans and drops evicted traces', () => {
    const recorder = new SpanRecorder({ capacity: 3 });
    const span = (traceId: string, spanId: string): RecordedSpan => ({
      traceId,
      spanId,
      parentSpanId: undefined,
      name: spanId,
      kind: 'internal',
      service: 's',
      startMs: Number(spanId),
      durationMs: 1,
      status: 'unset',
      statusMessage: undefined,
      attributes: {},
      events: [],
    });
    const got: string[] = [];
    const off = recorder.subscribe((s) => got.push(s.spanId));
    recorder.record(span('a', '1'));
    recorder.record(span('b', '2'));
    recorder.record(span('a', '3'));
    recorder.record(span('c', '4'));
    off();
    recorder.record(span('c', '5'));
    expect(recorder.size).toBe(3);
    expect(recorder.trace('a').map((s) => s.spanId)).toEqual(['3']);
    expect(recorder.trace('b')).toEqual([]);
    expect(recorder.trace('c').map((s) => s.spanId)).toEqual(['4', '5']);
    expect(recorder.recentTraces().map((t) => t.traceId)).toEqual(['c', 'a']);
    expect(got).toEqual(['1', '2', '3', '4']);
  });
});
