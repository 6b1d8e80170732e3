/**
 * The scraped history and the numbers read from it, on hand-made scrapes whose answers are
 * known: counter resets, staleness, new series, bucket quantiles, matchers, retention, and the
 * chart and RED numbers that leave probes and ops calls out.
 */
import { describe, expect, it } from 'vitest';
import { chartPoint, redByInstance } from './chart-series.js';
import type { Sample } from './exposition.js';
import { aggregate, MetricHistory } from './metric-history.js';

const s = (name: string, value: number, labels: Record<string, string> = {}): Sample => ({
  name,
  labels,
  value,
});
const values = (v: Array<{ labels: Record<string, string>; value: number }>) =>
  v.map((x) => [x.labels.route ?? x.labels.service ?? x.labels.instance, x.value]);

describe('MetricHistory', () => {
  it('computes increase and rate over a window, adding counter resets back', () => {
    const h = new MetricHistory();
    const c = (v: number) => [s('requests_total', v, { route: '/a' })];
    for (const [t, v] of [
      [0, 10],
      [10_000, 20],
      [20_000, 5], // the process restarted: 5 new since the reset
      [30_000, 15],
    ] as const)
      h.add(t, 'orders', c(v));
    expect(values(h.increase('requests_total', {}, 60_000, 30_000))).toEqual([['/a', 10 + 5 + 10]]);
    expect(values(h.rate('requests_total', {}, 60_000, 30_000))).toEqual([['/a', 25 / 30]]);
    // Only (5 s, 30 s]: two points, 5 → 15.
    expect(values(h.increase('requests_total', {}, 25_000, 30_000))).toEqual([['/a', 15]]);
    // One point in the window is not enough (as in PromQL).
    expect(h.increase('requests_total', {}, 5_000, 30_000)).toEqual([]);
  });

  it('reads the latest value within the staleness window and labels it with the target', () => {
    const h = new MetricHistory();
    h.add(0, 'orders#1', [s('trellis_bus_pending', 7, { group: 'g' })]);
    expect(h.latest('trellis_bus_pending', {}, 60_000)).toEqual([
      { labels: { group: 'g', instance: 'orders#1' }, value: 7 },
    ]);
    expect(h.latest('trellis_bus_pending', {}, 5 * 60_000 + 1)).toEqual([]);
    expect(h.latest('trellis_bus_pending', {}, -1)).toEqual([]); // nothing before it
  });

  it('matches labels exactly, by anchored regex, and by their negations', () => {
    const h = new MetricHistory();
    h.add(0, 'x', [
      s('http', 1, { status: '500', route: '/orders' }),
      s('http', 2, { status: '503', route: '/health/ready' }),
      s('http', 3, { status: '200', route: '/orders' }),
    ]);
    const sum = (m: Parameters<MetricHistory['latest']>[1]) =>
      h.latest('http', m, 0).reduce((n, v) => n + v.value, 0);
    expect(sum({ status: '500' })).toBe(1);
    expect(sum({ status: /5../ })).toBe(3);
    expect(sum({ status: /5/ })).toBe(0); // anchored, like =~
    expect(sum({ status: { not: '200' } })).toBe(3);
    expect(sum({ route: { notMatch: /\/health.*/ } })).toBe(4);
    expect(sum({ missing: '' })).toBe(6); // an absent label is the empty string
  });

  it('finds counters that first appeared within a window (which increase() cannot see)', () => {
    const h = new MetricHistory();
    h.add(0, 'n', [s('dead_total', 1, { group: 'old' })]);
    h.add(60_000, 'n', [s('dead_total', 1, { group: 'old' }), s('dead_total', 2, { group: 'new' })]);
    expect(h.newSince('dead_total', 30_000, 60_000).map((v) => [v.labels.group, v.value])).toEqual([
      ['new', 2],
    ]);
    expect(h.increase('dead_total', { group: 'new' }, 600_000, 60_000)).toEqual([]);
  });

  it('interpolates a histogram quantile inside its bucket, per group', () => {
    const h = new MetricHistory();
    const buckets = (counts: [number, number, number]) =>
      (['0.1', '0.5', '+Inf'] as const).map((le, i) =>
        s('lat_bucket', counts[i] as number, { le, service: 'a' }),
      );
    h.add(0, 'a', buckets([0, 0, 0]));
    // 100 observations: 50 under 0.1 s, 40 between 0.1 and 0.5, 10 above.
    h.add(10_000, 'a', buckets([50, 90, 100]));
    const q = (p: number) => h.quantile(p, 'lat', {}, ['service'], 60_000, 10_000)[0]?.value;
    expect(q(0.5)).toBeCloseTo(0.1);
    expect(q(0.7)).toBeCloseTo(0.1 + 0.4 * (20 / 40));
    expect(q(0.99)).toBe(0.5); // in the +Inf bucket: its lower bound, as Prometheus answers
    expect(h.quantile(0.5, 'lat', { service: 'b' }, ['service'], 60_000, 10_000)).toEqual([]);
  });

  it('drops points older than its retention and series left empty', () => {
    const h = new MetricHistory({ retentionMs: 60_000, keep: (name) => name !== 'ignored' });
    h.add(0, 'a', [s('gone', 1), s('ignored', 1)]);
    h.add(30_000, 'a', [s('kept', 1)]);
    expect(h.size).toBe(2);
    h.add(70_000, 'a', [s('kept', 2)]);
    expect(h.size).toBe(1);
    expect(h.select('kept')[0]?.points).toEqual([
      [30_000, 1],
      [70_000, 2],
    ]);
    expect(h.maxOverTime('kept', {}, 60_000, 70_000)[0]?.value).toBe(2);
  });

  it('aggregates by labels with sum or max', () => {
    const v = [
      { labels: { service: 'a', instance: '1' }, value: 2 },
      { labels: { service: 'a', instance: '2' }, value: 5 },
      { labels: { service: 'b', instance: '3' }, value: 1 },
    ];
    expect(aggregate(v, ['service'])).toEqual([
      { labels: { service: 'a' }, value: 7 },
      { labels: { service: 'b' }, value: 1 },
    ]);
    expect(aggregate(v, ['service'], 'max')[0]?.value).toBe(5);
    expect(aggregate(v, [])).toEqual([{ labels: {}, value: 8 }]);
  });
});

describe('chart and RED numbers', () => {
  const scrape = (h: MetricHistory, at: number, target: string, service: string, n: number) =>
    h.add(at, target, [
      s('http_server_requests_total', n, { service, route: '/orders', status: '201' }),
      s('http_server_requests_total', n / 10, { service, route: '/orders', status: '503' }),
      s('http_server_requests_total', n * 100, { service, route: '/health/ready', status: '200' }),
      s('http_server_requests_total', n * 100, { service, route: '/ops/info', status: '500' }),
      s('trellis_bus_pending', n, { service, group: 'notifications' }),
      s('trellis_outbox_backlog', 3, { service }),
    ]);

  it('counts traffic per service and instance without probes and ops calls', () => {
    const h = new MetricHistory();
    scrape(h, 0, 'orders', 'orders', 0);
    scrape(h, 0, 'orders#1', 'orders', 0);
    scrape(h, 10_000, 'orders', 'orders', 100);
    scrape(h, 10_000, 'orders#1', 'orders', 300);
    const p = chartPoint(h, 10_000);
    expect(p.throughput).toEqual({ orders: (110 + 330) / 10 });
    expect(p.errors).toEqual({ orders: 4 });
    expect(p.lag).toEqual({ notifications: 300 });
    expect(p.outbox).toEqual({ orders: 3 });
    const red = redByInstance(h, 10_000);
    expect(red.orders).toMatchObject({ requestsPerSecond: 11, errorRatio: 10 / 110 });
    expect(red['orders#1']).toMatchObject({ requestsPerSecond: 33 });
  });
});
