/**
 * The gateway's Prometheus metrics: requests and latency per route and upstream, retries,
 * rate-limit refusals, authentication failures, ejections, and per-instance state read at
 * scrape time. Label children are created once per route so the hot path only increments.
 */
import type { ServiceMetrics } from '@trellis/service';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { UpstreamGroup } from './upstream.js';

/** Pre-bound metric children of one route. */
export interface RouteMetrics {
  /** Indexed by status class (1–5). */
  byClass: Array<{ inc(): void }>;
  duration: { observe(seconds: number): void };
}

/** Gateway metrics on a service metrics registry. */
export class GatewayMetrics {
  private readonly requests: Counter<'route' | 'upstream' | 'status_class'>;
  private readonly duration: Histogram<'route' | 'upstream'>;
  readonly retries: Counter<'upstream'>;
  readonly rateLimited: Counter<'route'>;
  readonly authFailures: Counter<'reason'>;
  readonly ejections: Counter<'upstream' | 'instance'>;
  readonly rateLimitFallbacks: Counter;
  readonly refused: Counter<'code'>;

  constructor(metrics: ServiceMetrics, groups: () => Iterable<UpstreamGroup>, now: () => number) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'gateway_requests_total',
      help: 'Requests proxied, by route, upstream and status class',
      labelNames: ['route', 'upstream', 'status_class'],
      registers,
    });
    this.duration = new Histogram({
      name: 'gateway_request_duration_seconds',
      help: 'Time from request arrival to the end of the response, by route and upstream',
      labelNames: ['route', 'upstream'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.retries = new Counter({
      name: 'gateway_retries_total',
      help: 'Retried upstream attempts',
      labelNames: ['upstream'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Requests refused with 429',
      labelNames: ['route'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'gateway_auth_failures_total',
      help: 'Requests refused with 401',
      labelNames: ['reason'],
      registers,
    });
    this.ejections = new Counter({
      name: 'gateway_outlier_ejections_total',
      help: 'Instances ejected by passive outlier detection',
      labelNames: ['upstream', 'instance'],
      registers,
    });
    this.rateLimitFallbacks = new Counter({
      name: 'gateway_rate_limit_store_fallbacks_total',
      help: 'Rate-limit decisions taken locally because the shared store failed',
      registers,
    });
    this.refused = new Counter({
      name: 'gateway_refused_total',
      help: 'Requests refused by the gateway itself, by code',
      labelNames: ['code'],
      registers,
    });
    new Gauge({
      name: 'gateway_upstream_instance_available',
      help: '1 when the instance takes requests (healthy, not ejected, breaker not open)',
      labelNames: ['upstream', 'instance'],
      registers,
      collect() {
        this.reset();
        const t = now();
        for (const g of groups())
          for (const i of g.instances)
            this.set({ upstream: g.name, instance: i.url }, i.available(t) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gateway_upstream_outstanding_requests',
      help: 'Requests sent to the instance and not yet answered',
      labelNames: ['upstream', 'instance'],
      registers,
      collect() {
        this.reset();
        for (const g of groups())
          for (const i of g.instances) this.set({ upstream: g.name, instance: i.url }, i.outstanding);
      },
    });
  }

  /** Children for one route. */
  forRoute(route: string, upstream: string): RouteMetrics {
    const byClass = [0, 1, 2, 3, 4, 5].map((c) => this.requests.labels(route, upstream, `${c}xx`));
    return { byClass, duration: this.duration.labels(route, upstream) };
  }
}
