import { ManualClock } from '@trellis/core';
import { CircuitBreaker } from '@trellis/resilience';
import { describe, expect, it } from 'vitest';
import { Health } from './health.js';
import { ServiceMetrics } from './metrics.js';
import { busMetricsObserver, sagaMetricsObserver } from './observer-metrics.js';

/** The value of the series `name{labels}` in exposition text, whatever the label order. */
const value = (text: string, series: string) => {
  const [, name, labelText] = /^([^{]+)\{(.*)\}$/.exec(series) ?? [];
  const want = new Set(labelText?.split(','));
  for (const line of text.split('\n')) {
    const m = /^([^{]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2]?.split(',') ?? [];
    if (have.length === want.size && have.every((l) => want.has(l))) return Number(m[3]);
  }
  return undefined;
};

describe('ServiceMetrics', () => {
  it('exposes breaker state and call counts, read at scrape time', async () => {
    const clock = new ManualClock();
    const metrics = new ServiceMetrics({ serviceName: 'orders', defaultMetrics: false });
    const breaker = new CircuitBreaker({ name: 'payments', failureThreshold: 2, timeout: 1000, clock });
    metrics.trackBreaker(breaker);
    await breaker.execute(async () => 1);
    for (let i = 0; i < 2; i++)
      await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    await breaker.execute(async () => 1).catch(() => undefined);
    const text = await metrics.text();
    expect(
      value(text, 'trellis_circuit_breaker_state{breaker="payments",state="OPEN",service="orders"}'),
    ).toBe(1);
    expect(
      value(text, 'trellis_circuit_breaker_state{breaker="payments",state="CLOSED",service="orders"}'),
    ).toBe(0);
    expect(
      value(
        text,
        'trellis_circuit_breaker_calls_total{breaker="payments",outcome="failure",service="orders"}',
      ),
    ).toBe(2);
    expect(
      value(
        text,
        'trellis_circuit_breaker_calls_total{breaker="payments",outcome="rejected",service="orders"}',
      ),
    ).toBe(1);
    await clock.advance(1000);
    expect(await metrics.text()).toContain(
      'trellis_circuit_breaker_state{breaker="payments",state="HALF_OPEN",service="orders"} 1',
    );
  });

  it('reads backlog, lag and saga-state gauges from callbacks at scrape time', async () => {
    const metrics = new ServiceMetrics({ serviceName: 'orders', defaultMetrics: false });
    let backlog = 7;
    metrics.outboxBacklog(async () => backlog);
    metrics.busLag(() => [{ topic: 'order.placed', group: 'shipping', lag: 3 }]);
    metrics.sagaStates(async () => [
      { saga: 'checkout', state: 'running', count: 2 },
      { saga: 'checkout', state: 'compensated', count: 1 },
    ]);
    let text = await metrics.text();
    expect(value(text, 'trellis_outbox_backlog{service="orders"}')).toBe(7);
    expect(value(text, 'trellis_bus_lag{topic="order.placed",group="shipping",service="orders"}')).toBe(3);
    expect(value(text, 'trellis_saga_instances{saga="checkout",state="compensated",service="orders"}')).toBe(
      1,
    );
    backlog = 0;
    text = await metrics.text();
    expect(value(text, 'trellis_outbox_backlog{service="orders"}')).toBe(0);
  });

  it('maps any observer to counters, gauges and histograms through hooks', async () => {
    const metrics = new ServiceMetrics({ serviceName: 'orders', defaultMetrics: false });
    const spec = {
      sent: { type: 'counter', name: 'mail_sent_total', help: 'Mails sent', labels: ['kind'] },
      queue: { type: 'gauge', name: 'mail_queue', help: 'Mails queued' },
      seconds: {
        type: 'histogram',
        name: 'mail_send_seconds',
        help: 'Send time',
        labels: ['kind'],
        buckets: [0.1, 1],
      },
    } as const;
    const mail = metrics.hooks(spec);
    mail.sent({ kind: 'receipt' });
    mail.sent({ kind: 'receipt' }, 2);
    mail.queue({}, 4);
    mail.seconds({ kind: 'receipt' }, 0.5);
    // Asking for the same metrics again reuses them instead of failing on a duplicate name.
    metrics.hooks(spec).sent({ kind: 'receipt' });
    const text = await metrics.text();
    expect(value(text, 'mail_sent_total{kind="receipt",service="orders"}')).toBe(4);
    expect(value(text, 'mail_queue{service="orders"}')).toBe(4);
    expect(value(text, 'mail_send_seconds_bucket{le="1",kind="receipt",service="orders"}')).toBe(1);
    expect(value(text, 'mail_send_seconds_bucket{le="0.1",kind="receipt",service="orders"}')).toBe(0);
  });
});

describe('observer adapters', () => {
  it('map bus and saga observer events to metrics', async () => {
    const metrics = new ServiceMetrics({ serviceName: 'orders', defaultMetrics: false });
    const bus = busMetricsObserver(metrics);
    bus.published({ transport: 'sqlite', topic: 'order.placed' });
    bus.handled({
      transport: 'sqlite',
      group: 'shipping',
      topic: 'order.placed',
      durationMs: 5,
      latencyMs: 40,
    });
    bus.deadLettered({ transport: 'sqlite', group: 'shipping', topic: 'order.placed', reason: 'failed' });
    bus.lag({ transport: 'sqlite', group: 'shipping', pattern: 'order.*', pending: 7, inFlight: 1 });
    bus.relayed({ count: 3, backlog: 2 });
    const saga = sagaMetricsObserver(metrics);
    saga.sagaStarted({ saga: 'checkout' });
    saga.sagaStarted({ saga: 'checkout' });
    saga.sagaCompensated({ saga: 'checkout', durationMs: 120 });
    saga.sagaFailed({ saga: 'checkout' });
    saga.stepFinished({
      saga: 'checkout',
      step: 'charge',
      phase: 'execute',
      outcome: 'error',
      durationMs: 30,
    });
    const text = await metrics.text();
    const t = 'transport="sqlite"';
    expect(value(text, `trellis_bus_published_total{${t},topic="order.placed",service="orders"}`)).toBe(1);
    expect(
      value(
        text,
        `trellis_bus_latency_seconds_count{${t},group="shipping",topic="order.placed",service="orders"}`,
      ),
    ).toBe(1);
    expect(
      value(
        text,
        `trellis_bus_dead_lettered_total{${t},group="shipping",topic="order.placed",reason="failed",service="orders"}`,
      ),
    ).toBe(1);
    expect(value(text, `trellis_bus_pending{${t},group="shipping",pattern="order.*",service="orders"}`)).toBe(
      7,
    );
    expect(value(text, 'trellis_outbox_relayed_total{service="orders"}')).toBe(3);
    expect(value(text, 'trellis_outbox_pending{service="orders"}')).toBe(2);
    expect(
      value(text, 'trellis_saga_transitions_total{saga="checkout",state="failed",service="orders"}'),
    ).toBe(1);
    expect(value(text, 'trellis_saga_running{saga="checkout",service="orders"}')).toBe(0);
    expect(
      value(
        text,
        'trellis_saga_step_seconds_count{saga="checkout",step="charge",phase="execute",outcome="error",service="orders"}',
      ),
    ).toBe(1);
  });
});

describe('Health', () => {
  it('fails a check that hangs past its timeout, and reports draining', async () => {
    const clock = new ManualClock();
    const health = new Health({ clock });
    health.add('database', () => new Promise(() => undefined), { timeoutMs: 500 });
    health.add('bus', () => true);
    const pending = health.ready();
    await clock.advance(500);
    const report = await pending;
    expect(report.status).toBe('not_ready');
    expect(report.checks.database).toMatchObject({ ok: false, error: 'timed out after 500 ms' });
    expect(report.checks.bus).toMatchObject({ ok: true });
    health.startDraining();
    const remove = health.add('database', () => true);
    expect((await health.ready()).status).toBe('draining');
    remove();
    expect(clock.pendingTimers()).toBe(0);
  });
});
