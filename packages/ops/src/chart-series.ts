/**
 * What the console charts and its services table show, computed from the scraped history:
 * per service request throughput, 5xx rate and p99 latency (probe and scrape routes left
 * out), consumer lag per group, outbox backlog per service, and the same RED numbers per
 * instance.
 */
import { aggregate, type Matchers, type MetricHistory, type Vector } from './metric-history.js';

/** Routes that are not traffic: probes, scrapes, the ops API itself. */
const NOT_TRAFFIC: Matchers = { route: { notMatch: /\/(health|metrics|ops|openapi).*/ } };

/** One point of the live charts. */
export interface ChartPoint {
  at: number;
  /** Requests per second, by service. */
  throughput: Record<string, number>;
  /** 5xx answers per second, by service. */
  errors: Record<string, number>;
  /** p99 latency in ms, by service. */
  p99Ms: Record<string, number>;
  /** Messages waiting, by consumer group. */
  lag: Record<string, number>;
  /** Outbox rows not yet published, by service. */
  outbox: Record<string, number>;
  /** Messages handled per second, by consumer group. */
  handled: Record<string, number>;
}

/** RED numbers of one instance (or one service). */
export interface RedStats {
  requestsPerSecond: number;
  errorRatio: number;
  p99Ms: number | null;
}

function byLabel(v: Vector, label: string, scale = 1): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of aggregate(v, [label])) {
    const key = x.labels[label];
    if (key !== undefined) out[key] = Math.round(x.value * scale * 1000) / 1000;
  }
  return out;
}

function maxBy(v: Vector, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of aggregate(v, [label], 'max')) {
    const key = x.labels[label];
    if (key !== undefined) out[key] = x.value;
  }
  return out;
}

/** The chart point at `now`, rates over `windowMs`. */
export function chartPoint(h: MetricHistory, now: number, windowMs = 30_000): ChartPoint {
  const requests = h.rate('http_server_requests_total', NOT_TRAFFIC, windowMs, now);
  const gateway = h.rate('gateway_requests_total', {}, windowMs, now);
  const throughput = byLabel([...requests, ...gateway], 'service');
  const errors = byLabel(
    [
      ...requests.filter((v) => /^5/.test(v.labels.status ?? '')),
      ...gateway.filter((v) => v.labels.status_class === '5xx'),
    ],
    'service',
  );
  const p99 = [
    ...h.quantile(0.99, 'http_server_request_duration_seconds', NOT_TRAFFIC, ['service'], windowMs, now),
    ...h.quantile(0.99, 'gateway_request_duration_seconds', {}, ['service'], windowMs, now),
  ];
  return {
    at: now,
    throughput,
    errors,
    p99Ms: byLabel(p99, 'service', 1000),
    lag: maxBy(h.latest('trellis_bus_pending', {}, now, windowMs * 2), 'group'),
    outbox: maxBy(h.latest('trellis_outbox_backlog', {}, now, windowMs * 2), 'service'),
    handled: byLabel(h.rate('trellis_bus_handled_total', {}, windowMs, now), 'group'),
  };
}

/** RED numbers per instance over `windowMs` (the gateway's from its own metrics). */
export function redByInstance(h: MetricHistory, now: number, windowMs = 60_000): Record<string, RedStats> {
  const out: Record<string, RedStats> = {};
  const add = (all: Vector, errors: Vector, p99: Vector) => {
    const total = aggregate(all, ['instance']);
    for (const t of total) {
      const id = t.labels.instance as string;
      const e = aggregate(errors, ['instance']).find((x) => x.labels.instance === id)?.value ?? 0;
      const q = p99.find((x) => x.labels.instance === id)?.value;
      out[id] = {
        requestsPerSecond: Math.round(t.value * 1000) / 1000,
        errorRatio: t.value > 0 ? e / t.value : 0,
        p99Ms: q === undefined ? null : Math.round(q * 1e6) / 1000,
      };
    }
  };
  const requests = h.rate('http_server_requests_total', NOT_TRAFFIC, windowMs, now);
  add(
    requests,
    requests.filter((v) => /^5/.test(v.labels.status ?? '')),
    h.quantile(0.99, 'http_server_request_duration_seconds', NOT_TRAFFIC, ['instance'], windowMs, now),
  );
  const gateway = h.rate('gateway_requests_total', {}, windowMs, now);
  add(
    gateway,
    gateway.filter((v) => v.labels.status_class === '5xx'),
    h.quantile(0.99, 'gateway_request_duration_seconds', {}, ['instance'], windowMs, now),
  );
  return out;
}
