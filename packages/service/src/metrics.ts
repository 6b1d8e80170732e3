/**
 * Prometheus metrics with prom-client. Each service has its own registry (several services
 * can share one process), RED metrics per route recorded by the runtime, breaker state read
 * at scrape time, and helpers to expose anything else (bus lag, outbox backlog, saga states)
 * without the metrics code knowing those packages.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Label values by label name. */
export type Labels<L extends string = string> = Partial<Record<L, string | number>>;

/** Options of {@link ServiceMetrics}. */
export interface ServiceMetricsOptions {
  /** Added as the `service` label on every metric. */
  serviceName: string;
  /** Use this registry instead of a new one. */
  registry?: Registry;
  /** Collect Node process metrics (heap, event-loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** HTTP duration buckets in seconds. */
  buckets?: number[];
}

/** Something with a breaker's `name` and `state` (a resilience `CircuitBreaker` fits). */
export interface BreakerLike {
  readonly name: string;
  readonly state: string;
  readonly metrics?: { successes: number; failures: number; rejections: number };
}

const BREAKER_STATES = ['CLOSED', 'OPEN', 'HALF_OPEN'] as const;

/** One metric of a {@link ServiceMetrics.hooks} spec. */
export interface HookSpec<L extends string = string> {
  type: 'counter' | 'gauge' | 'histogram';
  name: string;
  help: string;
  labels?: readonly L[];
  /** Histogram buckets. */
  buckets?: readonly number[];
}

/** The function a hook becomes: counters add `value` (default 1), gauges set it, histograms observe it. */
export type Hook<L extends string = string> = (labels?: Labels<L>, value?: number) => void;

type HookLabels<S> = S extends HookSpec<infer L> ? L : string;

/**
 * The metrics of one service.
 *
 * @example
 * ```ts
 * const metrics = new ServiceMetrics({ serviceName: 'orders' });
 * metrics.gaugeFrom('trellis_outbox_backlog', 'Outbox rows not yet published', () => countPending());
 * const bus = metrics.hooks({
 *   published: { type: 'counter', name: 'trellis_bus_published_total', help: 'Events published', labels: ['topic'] },
 * });
 * bus.published({ topic: 'order.created' });
 * ```
 */
export class ServiceMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly breakers = new Map<string, BreakerLike>();

  constructor(options: ServiceMetricsOptions) {
    this.registry = options.registry ?? new Registry();
    this.registry.setDefaultLabels({ service: options.serviceName });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'http_server_requests_total',
      help: 'HTTP requests handled, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'HTTP request duration, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: options.buckets ?? [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    const breakers = this.breakers;
    new Gauge({
      name: 'trellis_circuit_breaker_state',
      help: 'Circuit breaker state: 1 for the current state, 0 for the others',
      labelNames: ['breaker', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, b] of breakers) {
          const current = b.state;
          for (const s of BREAKER_STATES) this.set({ breaker: name, state: s }, s === current ? 1 : 0);
        }
      },
    });
    new Counter({
      name: 'trellis_circuit_breaker_calls_total',
      help: 'Calls through a circuit breaker, by outcome (success, failure, rejected)',
      labelNames: ['breaker', 'outcome'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, b] of breakers) {
          const m = b.metrics;
          if (!m) continue;
          this.inc({ breaker: name, outcome: 'success' }, m.successes);
          this.inc({ breaker: name, outcome: 'failure' }, m.failures);
          this.inc({ breaker: name, outcome: 'rejected' }, m.rejections);
        }
      },
    });
  }

  /** Records one handled HTTP request (the runtime calls this for every route). */
  observeHttp(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }

  /** Exposes a breaker's state and call counts, read at scrape time. Returns the removal function. */
  trackBreaker(breaker: BreakerLike, name = breaker.name): () => void {
    this.breakers.set(name, breaker);
    return () => this.breakers.delete(name);
  }

  /**
   * A gauge whose value is read when Prometheus scrapes: a number, or one value per label set.
   * Use it for backlogs and lags that live in a database or a bus.
   */
  gaugeFrom<L extends string = never>(
    name: string,
    help: string,
    read: () =>
      | number
      | ReadonlyArray<{ labels: Labels<L>; value: number }>
      | Promise<number | ReadonlyArray<{ labels: Labels<L>; value: number }>>,
    labelNames: readonly L[] = [],
  ): void {
    new Gauge({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      async collect() {
        const value = await read();
        this.reset();
        if (typeof value === 'number') this.set(value);
        else for (const v of value) this.set(v.labels as Labels<L>, v.value);
      },
    });
  }

  /** Outbox rows not yet published, read at scrape time (`trellis_outbox_backlog`). */
  outboxBacklog(read: () => number | Promise<number>): void {
    this.gaugeFrom('trellis_outbox_backlog', 'Outbox rows committed but not yet published', read);
  }

  /** Messages a consumer group has yet to handle, per topic and group (`trellis_bus_lag`). */
  busLag(
    read: () =>
      | ReadonlyArray<{ topic: string; group: string; lag: number }>
      | Promise<ReadonlyArray<{ topic: string; group: string; lag: number }>>,
  ): void {
    this.gaugeFrom(
      'trellis_bus_lag',
      'Messages not yet handled by a consumer group',
      async () => (await read()).map((r) => ({ labels: { topic: r.topic, group: r.group }, value: r.lag })),
      ['topic', 'group'],
    );
  }

  /** Saga instances per saga and state, read at scrape time (`trellis_saga_instances`). */
  sagaStates(
    read: () =>
      | ReadonlyArray<{ saga: string; state: string; count: number }>
      | Promise<ReadonlyArray<{ saga: string; state: string; count: number }>>,
  ): void {
    this.gaugeFrom(
      'trellis_saga_instances',
      'Saga instances by saga and state',
      async () => (await read()).map((r) => ({ labels: { saga: r.saga, state: r.state }, value: r.count })),
      ['saga', 'state'],
    );
  }

  /**
   * Turns a spec of metrics into plain functions, so any observer interface (a bus's
   * published/handled/retried/dead-lettered/latency, a saga's state changes) can be mapped to
   * Prometheus in a few lines without this package knowing it.
   */
  hooks<S extends Record<string, HookSpec>>(spec: S): { [K in keyof S]: Hook<HookLabels<S[K]>> } {
    const out: Record<string, Hook> = {};
    for (const [key, s] of Object.entries(spec)) {
      const labelNames = [...(s.labels ?? [])];
      const existing = this.registry.getSingleMetric(s.name);
      if (s.type === 'counter') {
        const c =
          (existing as Counter<string>) ??
          new Counter({ name: s.name, help: s.help, labelNames, registers: [this.registry] });
        out[key] = (labels = {}, value = 1) => c.inc(labels, value);
      } else if (s.type === 'gauge') {
        const g =
          (existing as Gauge<string>) ??
          new Gauge({ name: s.name, help: s.help, labelNames, registers: [this.registry] });
        out[key] = (labels = {}, value = 0) => g.set(labels, value);
      } else {
        const h =
          (existing as Histogram<string>) ??
          new Histogram({
            name: s.name,
            help: s.help,
            labelNames,
            buckets: s.buckets ? [...s.buckets] : undefined,
            registers: [this.registry],
          });
        out[key] = (labels = {}, value = 0) => h.observe(labels, value);
      }
    }
    return out as { [K in keyof S]: Hook<HookLabels<S[K]>> };
  }

  /** The exposition text served at `/metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
