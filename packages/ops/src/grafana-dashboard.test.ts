/**
 * The shipped Grafana dashboard, checked against what the system really emits. A service is
 * built the way the shop builds one (ServiceMetrics with its breakers on the ops board, the
 * bus, outbox and saga metrics, the ops API) and put behind a real gateway; traffic goes
 * through both; then both are scraped over HTTP as Prometheus would scrape them (the service's
 * `/metrics`, the gateway's admin `/metrics`). Every PromQL expression of the dashboard must
 * parse (Prometheus's own Lezer grammar), name only metrics found in those scrapes or made by
 * Prometheus itself (`up`, `ALERTS`), and use only labels those metrics carry (plus the
 * target labels of the example scrape config).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { TrellisError } from '@trellis/core';
import { createGateway, type Gateway } from '@trellis/gateway';
import { CircuitBreaker } from '@trellis/resilience';
import {
  busMetricsObserver,
  createService,
  endpoint,
  route,
  type Service,
  ServiceMetrics,
  sagaMetricsObserver,
} from '@trellis/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseExposition } from './exposition.js';
import { OpsApi } from './ops-api.js';

const dashboardFile = fileURLToPath(new URL('../grafana/trellis-dashboard.json', import.meta.url));
const scrapeConfigFile = fileURLToPath(new URL('../prometheus/prometheus.example.yml', import.meta.url));
const SECRET = 'internal-identity-secret-of-32-bytes!!';

/** What the dashboard JSON must look like to import into Grafana (the parts that matter). */
const Target = z.object({
  refId: z.string().min(1),
  expr: z.string().min(1),
  legendFormat: z.string().optional(),
});
/** Grafana's reference to the dashboard's `datasource` variable (literally `${datasource}`). */
const DATASOURCE_VARIABLE = ['$', '{datasource}'].join('');
const DataSource = z.object({ type: z.literal('prometheus'), uid: z.literal(DATASOURCE_VARIABLE) });
const Panel = z.object({
  id: z.number().int().positive(),
  type: z.enum(['stat', 'timeseries', 'gauge', 'table', 'bargauge']),
  title: z.string().min(1),
  datasource: DataSource,
  gridPos: z.object({
    x: z.number().int().min(0),
    y: z.number().int().min(0),
    w: z.number().int().min(1).max(24),
    h: z.number().int().min(1),
  }),
  targets: z.array(Target.extend({ datasource: DataSource })).min(1),
});
const Dashboard = z.object({
  title: z.string().min(1),
  uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
  schemaVersion: z.number().int(),
  templating: z.object({
    list: z.array(z.object({ name: z.string(), type: z.string(), query: z.string() })),
  }),
  annotations: z.object({
    list: z.array(z.object({ name: z.string(), expr: z.string(), datasource: DataSource })),
  }),
  panels: z.array(Panel).min(1),
});
const dashboard = Dashboard.parse(JSON.parse(readFileSync(dashboardFile, 'utf8')));

/** Every expression of the dashboard, with where it comes from. */
const expressions = [
  ...dashboard.panels.flatMap((p) =>
    p.targets.map((t) => ({ where: `${p.title} ${t.refId}`, expr: t.expr })),
  ),
  ...dashboard.annotations.list.map((a) => ({ where: `annotation ${a.name}`, expr: a.expr })),
];

interface Selector {
  metric: string;
  labels: string[];
}
interface Analysis {
  errors: string[];
  selectors: Selector[];
  /** Grouping labels of each aggregation, with the metrics it aggregates. */
  groupings: Array<{ labels: string[]; metrics: string[] }>;
}

/** Parses `expr` with Prometheus's grammar and lists its selectors and groupings. */
function analyse(expr: string): Analysis {
  const tree = parser.parse(expr);
  const text = (n: { from: number; to: number }) => expr.slice(n.from, n.to);
  const out: Analysis = { errors: [], selectors: [], groupings: [] };
  tree.iterate({
    enter(ref) {
      if (ref.type.isError)
        out.errors.push(`syntax error at ${ref.from}: "${expr.slice(ref.from, ref.from + 20)}"`);
      const node = ref.node;
      if (ref.name === 'VectorSelector') {
        const id = node.getChild('Identifier');
        const labels: string[] = [];
        for (const m of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? [])
          labels.push(text(m.getChild('LabelName') as { from: number; to: number }));
        out.selectors.push({ metric: id ? text(id) : '', labels });
      }
      if (ref.name === 'AggregateExpr') {
        const labels = (
          node.getChild('AggregateModifier')?.getChild('GroupingLabels')?.getChildren('LabelName') ?? []
        ).map(text);
        const metrics: string[] = [];
        const c = node.cursor();
        const end = node.to;
        while (c.next() && c.from < end)
          if (c.name === 'VectorSelector')
            metrics.push(text(c.node.getChild('Identifier') as { from: number; to: number }));
        if (labels.length > 0) out.groupings.push({ labels, metrics });
      }
    },
  });
  return out;
}

/** Metric name → labels seen on its samples, from exposition texts (histogram families expanded). */
function emitted(texts: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (name: string, labels: string[] = []) => {
    const set = out.get(name) ?? new Set<string>();
    for (const l of labels) set.add(l);
    out.set(name, set);
  };
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const m = /^# TYPE (\S+) (\S+)/.exec(line);
      if (!m) continue;
      const [, name = '', type] = m;
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) add(name + s);
      else if (type === 'summary') for (const s of ['', '_sum', '_count']) add(name + s);
      else add(name);
    }
    for (const s of parseExposition(text)) add(s.name, Object.keys(s.labels));
  }
  return out;
}

/** The target labels the example scrape config gives every series (and `up`). */
function targetLabels(): string[] {
  const config = parse(readFileSync(scrapeConfigFile, 'utf8')) as {
    scrape_configs: Array<{ static_configs: Array<{ labels?: Record<string, string> }> }>;
  };
  const labels = new Set(['job', 'instance']);
  for (const job of config.scrape_configs)
    for (const sc of job.static_configs) for (const l of Object.keys(sc.labels ?? {})) labels.add(l);
  return [...labels];
}

describe('Grafana dashboard', () => {
  let service: Service;
  let gateway: Gateway;
  let metrics: Map<string, Set<string>>;
  /** Series Prometheus makes itself, with their labels. */
  const builtIn = new Map<string, Set<string>>([
    ['up', new Set(targetLabels())],
    [
      'ALERTS',
      new Set(['alertname', 'alertstate', 'severity', 'service', 'breaker', 'group', 'saga', 'instance']),
    ],
  ]);

  beforeAll(async () => {
    // A service wired like the shop's (apps/shop/src/platform/shop-service.ts).
    const ops = new OpsApi({ service: 'orders' });
    const serviceMetrics = ops.board.watch(new ServiceMetrics({ serviceName: 'orders' }));
    const bus = busMetricsObserver(serviceMetrics);
    const sagas = sagaMetricsObserver(serviceMetrics);
    serviceMetrics.outboxBacklog(() => 3);
    serviceMetrics.sagaStates(() => [{ saga: 'place-order', state: 'failed', count: 1 }]);
    const breaker = new CircuitBreaker({ name: 'payments', failureThreshold: 1 });
    serviceMetrics.trackBreaker(breaker);
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    let flaky = 0;
    service = createService({
      name: 'orders',
      routes: [
        route(endpoint({ method: 'POST', path: '/orders', response: z.object({ ok: z.boolean() }) }), () => ({
          ok: true,
        })),
        route(endpoint({ method: 'GET', path: '/flaky', response: z.object({ ok: z.boolean() }) }), () => {
          if (flaky++ % 2 === 0) throw new TrellisError('UNAVAILABLE', 'try again', 503);
          return { ok: true };
        }),
        ...ops.routes(),
      ],
      metrics: serviceMetrics,
      tracing: { recorder: ops.recorder },
      internalAuth: { mode: 'off' },
      logger: { level: 'silent' },
      accessLog: false,
    });
    ops.attach(service);
    const upstream = await service.listen({ port: 0, host: '127.0.0.1', signals: false });
    // Bus, outbox and saga events as the messaging and saga runtimes report them.
    bus.published({ transport: 'sqlite', topic: 'order.created' });
    bus.handled({
      transport: 'sqlite',
      group: 'notifications',
      topic: 'order.created',
      durationMs: 2,
      latencyMs: 9,
    });
    bus.retried({ transport: 'sqlite', group: 'notifications', topic: 'order.created' });
    bus.deadLettered({
      transport: 'sqlite',
      group: 'notifications',
      topic: 'order.created',
      reason: 'failed',
    });
    bus.lag({ transport: 'sqlite', group: 'notifications', pattern: 'order.*', pending: 4, inFlight: 1 });
    bus.relayed({ count: 5, backlog: 0 });
    sagas.sagaStarted({ saga: 'place-order' });
    sagas.stepFinished({
      saga: 'place-order',
      step: 'chargePayment',
      phase: 'execute',
      outcome: 'ok',
      durationMs: 12,
    });
    sagas.stepRetried({ saga: 'place-order', step: 'chargePayment', phase: 'execute' });

    gateway = createGateway({
      logger: { level: 'silent' },
      config: {
        upstreams: { orders: { instances: [upstream], retry: { attempts: 2, minRetriesPerSecond: 100 } } },
        routes: [{ name: 'orders', prefix: '/api', upstream: 'orders', auth: 'public', rewritePrefix: '' }],
        identity: { internalTokenSecret: SECRET },
        accessLog: false,
      },
    });
    const url = await gateway.listen({ port: 0, adminPort: 0 });
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${url}/api/orders`, { method: 'POST' })).status).toBe(200);
      expect((await fetch(`${url}/api/flaky`)).status).toBe(200); // the 503 is retried by the gateway
    }
    const scrape = async (base: string) => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      return res.text();
    };
    metrics = emitted([await scrape(upstream), await scrape(gateway.adminUrl as string)]);
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await service?.shutdown();
  });

  it('is a dashboard Grafana can import, with unique panel ids and every panel on the data source variable', () => {
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });

  it.each(expressions)('$where: parses as PromQL', ({ expr }) => {
    expect(analyse(expr).errors).toEqual([]);
  });

  it.each(expressions)('$where: names only metrics the system emits', ({ expr }) => {
    const { selectors } = analyse(expr);
    expect(selectors.length).toBeGreaterThan(0);
    for (const { metric } of selectors) {
      expect(metrics.has(metric) || builtIn.has(metric), `${metric} is not emitted`).toBe(true);
    }
  });

  it.each(expressions)('$where: uses only labels those metrics carry', ({ expr }) => {
    const { selectors, groupings } = analyse(expr);
    const fromTarget = targetLabels();
    const carries = (metric: string, label: string) =>
      fromTarget.includes(label) || (metrics.get(metric) ?? builtIn.get(metric))?.has(label) === true;
    for (const s of selectors)
      for (const label of s.labels)
        expect(carries(s.metric, label), `${s.metric} has no label ${label}`).toBe(true);
    for (const g of groupings)
      for (const label of g.labels)
        for (const metric of g.metrics)
          expect(carries(metric, label), `${metric} has no label ${label} to group by`).toBe(true);
  });

  it('covers the metrics the alert rules are about', () => {
    const used = new Set(expressions.flatMap(({ expr }) => analyse(expr).selectors.map((s) => s.metric)));
    for (const m of [
      'up',
      'trellis_circuit_breaker_state',
      'trellis_bus_dead_lettered_total',
      'trellis_saga_instances',
      'trellis_bus_pending',
      'trellis_outbox_backlog',
      'http_server_requests_total',
      'http_server_request_duration_seconds_bucket',
      'gateway_requests_total',
    ])
      expect(used, m).toContain(m);
  });

  it('would catch a metric or label the system does not emit', () => {
    const wrong = analyse('sum by (shard) (rate(trellis_orders_placed_total{region="eu"}[5m]))');
    expect(metrics.has(wrong.selectors[0]?.metric ?? '')).toBe(false);
    expect(metrics.get('http_server_requests_total')?.has('status_class')).toBe(false);
    expect(analyse('sum(rate(up[5m])').errors.length).toBeGreaterThan(0);
  });
});
