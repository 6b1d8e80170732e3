import { ManualClock } from '@trellis/core';
import { CircuitBreaker } from '@trellis/resilience';
import { describe, expect, it } from 'vitest';
import { Health } from './health.js';
import { busMetricHooks, ServiceMetrics, sagaMetricHooks } from './metrics.js';

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
    const bus = busMetricHooks(metrics);
    bus.published({ topic: 'order.placed' });
    bus.published({ topic: 'order.placed' });
    bus.handled({ topic: 'order.placed', group: 'shipping', outcome: 'ok' });
    bus.deadLettered({ topic: 'order.placed', group: 'shipping' });
    bus.latency({ topic: 'order.placed', group: 'shipping' }, 0.02);
    bus.lag({ topic: 'order.placed', group: 'shipping' }, 5);
    const saga = sagaMetricHooks(metrics);
    saga.transition({ saga: 'checkout', state: 'completed' });
    // Asking for the same metric again reuses it instead of failing on a duplicate name.
    busMetricHooks(metrics).published({ topic: 'order.placed' });
    const text = await metrics.text();
    expect(value(text, 'trellis_bus_published_total{topic="order.placed",service="orders"}')).toBe(3);
    expect(
      value(text, 'trellis_bus_dead_lettered_total{topic="order.placed",group="shipping",service="orders"}'),
    ).toBe(1);
    expect(
      value(
        text,
        'trellis_bus_handling_seconds_count{topic="order.placed",group="shipping",service="orders"}',
      ),
    ).toBe(1);
    expect(
      value(text, 'trellis_bus_consumer_lag{topic="order.placed",group="shipping",service="orders"}'),
    ).toBe(5);
    expect(
      value(text, 'trellis_saga_transitions_total{saga="checkout",state="completed",service="orders"}'),
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
