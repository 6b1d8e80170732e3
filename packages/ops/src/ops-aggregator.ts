/**
 * The ops aggregator: one API over every instance of a system, for the console. It scrapes
 * each instance's `/metrics` and polls its `/ops/info` and `/ops/breakers` on an interval
 * (history for live charts, alert evaluation, a services table that answers at once), and
 * answers the console's reads and actions by asking the right instances: one instance per
 * service for what lives in a service's database (sagas, events, dead letters), every
 * instance for what lives in a process (spans, breakers, fault switches).
 */
import { type Clock, systemClock } from '@trellis/core';
import { type Route, route } from '@trellis/service';
import type { Logger } from 'pino';
import { aggregatorApi } from './aggregator-contract.js';
import { mergeDeadLetters, mergeSagas, mergeTraces } from './aggregator-merge.js';
import { type Alert, AlertEvaluator, type AlertNotifier } from './alert-evaluator.js';
import { type AlertRule, trellisAlertRules } from './alert-rules.js';
import { type ChartPoint, chartPoint, type RedStats, redByInstance } from './chart-series.js';
import { OpsCapabilityMissingError } from './errors.js';
import { parseExposition } from './exposition.js';
import { MetricHistory } from './metric-history.js';
import type { OpsCapabilities } from './ops-api.js';
import { opsApi } from './ops-contract.js';
import type { OpsTarget } from './ops-targets.js';
import { ask, fanOut, firstFound } from './target-calls.js';

/** Options of {@link OpsAggregator}. */
export interface OpsAggregatorOptions {
  targets: readonly OpsTarget[];
  /** Token for background polls (an identity with the `ops` role). */
  identity: () => Promise<string>;
  /** Scrape and poll interval. Default 3 s. */
  intervalMs?: number;
  /** Chart points kept. Default 15 minutes' worth. */
  chartRetentionMs?: number;
  rules?: readonly AlertRule[];
  notifiers?: AlertNotifier[];
  clock?: Clock;
  logger?: Pick<Logger, 'warn'>;
}

/** What the aggregator knows about an instance from its last poll. */
export interface InstanceStatus {
  id: string;
  service: string;
  up: boolean;
  error: string | null;
  lastSeenAt: number | null;
  info: {
    uptimeMs: number;
    startedAt: string;
    pid: number;
    version: string;
    health: { status: string; checks: Record<string, { ok: boolean; error?: string }> };
    capabilities: OpsCapabilities;
  } | null;
  breakers: Array<{ name: string; state: string; since?: number; transitions: unknown[] }>;
  red: RedStats | null;
}

const KEEP = (name: string) =>
  name.startsWith('http_server_') ||
  name.startsWith('trellis_') ||
  name.startsWith('gateway_') ||
  name === 'up';

/**
 * The aggregator.
 *
 * @example
 * ```ts
 * const aggregator = new OpsAggregator({ targets: [remoteTarget({ id: 'orders', service: 'orders', url })], identity });
 * const console = createService({ name: 'console', routes: aggregator.routes(), internalAuth });
 * aggregator.start(); console.onClose('aggregator', () => aggregator.stop());
 * ```
 */
export class OpsAggregator {
  readonly history: MetricHistory;
  readonly alerts: AlertEvaluator;
  private readonly clock: Clock;
  private readonly status = new Map<string, InstanceStatus>();
  private readonly charts: ChartPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly o: OpsAggregatorOptions) {
    this.clock = o.clock ?? systemClock;
    this.history = new MetricHistory({ keep: KEEP });
    this.alerts = new AlertEvaluator({
      rules: o.rules ?? trellisAlertRules(),
      notifiers: o.notifiers ?? [],
      clock: this.clock,
      onNotifyError: (error) => o.logger?.warn({ err: error }, 'alert notification failed'),
    });
    for (const t of o.targets) {
      this.status.set(t.id, {
        id: t.id,
        service: t.service,
        up: false,
        error: 'not polled yet',
        lastSeenAt: null,
        info: null,
        breakers: [],
        red: null,
      });
    }
  }

  get targets(): readonly OpsTarget[] {
    return this.o.targets;
  }

  /** Starts polling every interval (the first poll at once). */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.running ??= this.poll().finally(() => {
        this.running = undefined;
      });
    };
    tick();
    this.timer = setInterval(tick, this.o.intervalMs ?? 3000);
    this.timer.unref();
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.alerts.settled();
  }

  /** One round: scrape and poll every target, then evaluate alerts. */
  async poll(now = this.clock.now()): Promise<void> {
    const token = await this.o.identity();
    await Promise.all(this.o.targets.map((t) => this.pollTarget(t, token, now)));
    const red = redByInstance(this.history, now);
    for (const s of this.status.values())
      s.red = red[s.id] ?? (s.up ? { requestsPerSecond: 0, errorRatio: 0, p99Ms: null } : null);
    this.charts.push(chartPoint(this.history, now));
    const keep = this.o.chartRetentionMs ?? 15 * 60_000;
    while (this.charts.length > 0 && (this.charts[0] as ChartPoint).at < now - keep) this.charts.shift();
    await this.alerts.evaluate(this.history, now);
  }

  private async pollTarget(t: OpsTarget, token: string, now: number): Promise<void> {
    const s = this.status.get(t.id) as InstanceStatus;
    try {
      const [text, info, breakers] = await Promise.all([
        t.metrics(),
        ask(t, 'GET', '/ops/info', undefined, token),
        ask(t, 'GET', '/ops/breakers', undefined, token),
      ]);
      this.history.add(now, t.id, [
        ...parseExposition(text),
        { name: 'up', labels: { service: t.service }, value: 1 },
      ]);
      Object.assign(s, {
        up: true,
        error: null,
        lastSeenAt: now,
        info,
        breakers: (breakers as { items: InstanceStatus['breakers'] }).items,
      });
    } catch (error) {
      this.history.add(now, t.id, [{ name: 'up', labels: { service: t.service }, value: 0 }]);
      Object.assign(s, { up: false, error: (error as Error).message });
    }
  }

  /** Instances that are up and offer `capability`, one per service (their data is shared by replicas). */
  private perService(
    what: string,
    capability: (c: OpsCapabilities) => boolean,
    service?: string,
  ): OpsTarget[] {
    const chosen = new Map<string, OpsTarget>();
    for (const t of this.o.targets) {
      const s = this.status.get(t.id);
      if (!s?.up || !s.info || !capability(s.info.capabilities)) continue;
      if (service && t.service !== service) continue;
      if (!chosen.has(t.service)) chosen.set(t.service, t);
    }
    if (chosen.size === 0) throw new OpsCapabilityMissingError(service ? `${what} of ${service}` : what);
    return [...chosen.values()];
  }

  private upTargets(): OpsTarget[] {
    return this.o.targets.filter((t) => this.status.get(t.id)?.up);
  }

  /** Current view: instances with health, RED numbers and breakers, and the active alerts. */
  overview(): { instances: InstanceStatus[]; alerts: Alert[]; at: number } {
    return {
      instances: [...this.status.values()].map((s) => ({ ...s })),
      alerts: this.alerts.active(),
      at: this.clock.now(),
    };
  }

  /** The routes of the aggregator's service (same paths as an instance's, plus overview, charts, alerts). */
  routes(): Route[] {
    const qs = (q: Record<string, unknown>) => {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v !== undefined && k !== 'service') p.set(k, String(v));
      const s = p.toString();
      return s ? `?${s}` : '';
    };
    const sagaTargets = (service?: string) => this.perService('sagas', (c) => c.sagas, service);
    const dlqTargets = (service?: string) => this.perService('dead letters', (c) => c.deadLetters, service);
    const eventTargets = (service?: string) => this.perService('events', (c) => c.events, service);
    return [
      route(aggregatorApi.overview, () => this.overview()),
      route(aggregatorApi.charts, ({ query }) => ({
        points: this.charts.filter((p) => p.at >= this.clock.now() - query.minutes * 60_000),
      })),
      route(aggregatorApi.alerts, () => ({
        active: this.alerts.active(),
        resolved: [...this.alerts.resolved].reverse(),
        rules: this.alerts.rules.map((r) => ({
          name: r.name,
          severity: r.severity,
          forMs: r.forMs,
          summary: r.summary,
        })),
      })),
      // Only instances that answered the last poll: a dead one's breakers are not known.
      route(opsApi.breakers, () => ({
        items: [...this.status.values()]
          .filter((s) => s.up)
          .flatMap((s) => s.breakers.map((b) => ({ ...b, instance: s.id, service: s.service }))),
      })),
      route(aggregatorApi.sagas, async ({ query }) => {
        const { answers, errors } = await fanOut(sagaTargets(query.service), 'GET', `/ops/sagas${qs(query)}`);
        return { ...mergeSagas(answers, query.limit), errors };
      }),
      route(aggregatorApi.saga, async ({ params, query }) => {
        const r = await firstFound(
          sagaTargets(query.service),
          'GET',
          `/ops/sagas/${encodeURIComponent(params.id)}`,
        );
        return { ...r.body, service: r.target.service };
      }),
      route(aggregatorApi.resumeSaga, async ({ params, body }) => {
        const { service, ...rest } = body;
        const path = `/ops/sagas/${encodeURIComponent(params.id)}`;
        const found = await firstFound(sagaTargets(service), 'GET', path);
        return (await ask(found.target, 'POST', `${path}/resume`, rest)) as Record<string, unknown>;
      }),
      route(aggregatorApi.deadLetters, async ({ query }) => {
        const { answers, errors } = await fanOut(
          dlqTargets(query.service),
          'GET',
          `/ops/dead-letters${qs(query)}`,
        );
        return { ...mergeDeadLetters(answers), errors };
      }),
      route(aggregatorApi.deadLetter, async ({ params, query }) => {
        const r = await firstFound(
          dlqTargets(query.service),
          'GET',
          `/ops/dead-letters/${encodeURIComponent(params.id)}`,
        );
        return { ...r.body, service: r.target.service };
      }),
      ...(['replay', 'purge'] as const).map((action) =>
        route(
          action === 'replay' ? aggregatorApi.replayDeadLetters : aggregatorApi.purgeDeadLetters,
          async ({ body }) => {
            const { service, ...selection } = body;
            let count = 0;
            // Sequential: with a shared store the first service moves them and the others find none.
            for (const t of dlqTargets(service)) {
              const r = await ask(t, 'POST', `/ops/dead-letters/${action}`, selection);
              count += (r[action === 'replay' ? 'replayed' : 'purged'] as number) ?? 0;
            }
            return action === 'replay' ? { replayed: count } : { purged: count };
          },
        ),
      ),
      route(aggregatorApi.events, async ({ query }) => {
        const [t] = eventTargets(query.service);
        return {
          ...(await ask(t as OpsTarget, 'GET', `/ops/events${qs(query)}`)),
          service: (t as OpsTarget).service,
        };
      }),
      route(aggregatorApi.stream, async ({ params, query }) => {
        const r = await firstFound(
          eventTargets(query.service),
          'GET',
          `/ops/streams/${encodeURIComponent(params.id)}`,
        );
        return { ...r.body, service: r.target.service };
      }),
      route(aggregatorApi.readModel, async ({ params, query }) => {
        const targets = this.perService(
          `read model ${params.name}`,
          (c) => c.readModels.includes(params.name),
          query.service,
        );
        const r = await firstFound(
          targets,
          'GET',
          `/ops/read-models/${encodeURIComponent(params.name)}/${encodeURIComponent(params.id)}`,
        );
        return { ...r.body, service: r.target.service };
      }),
      route(opsApi.traces, async ({ query }) => {
        const { answers, errors } = await fanOut(this.upTargets(), 'GET', `/ops/traces${qs(query)}`);
        const items = mergeTraces(answers, query.limit);
        return { items, errors };
      }),
      route(opsApi.trace, async ({ params }) => {
        const { answers, errors } = await fanOut(this.upTargets(), 'GET', `/ops/traces/${params.traceId}`);
        const spans = answers
          .flatMap((a) => a.body.spans as Array<{ startMs: number }>)
          .sort((a, b) => a.startMs - b.startMs);
        return { traceId: params.traceId, spans, errors };
      }),
      route(opsApi.faults, async () => {
        const { answers, errors } = await fanOut(this.upTargets(), 'GET', '/ops/faults');
        return {
          items: answers
            .filter((a) => (a.body.groups as string[]).length > 0)
            .map((a) => ({ instance: a.target.id, service: a.target.service, ...a.body })),
          errors,
        };
      }),
      route(opsApi.armFault, async ({ params, body }) => this.switchFault(params.group, 'PUT', body)),
      route(opsApi.disarmFault, async ({ params }) => this.switchFault(params.group, 'DELETE')),
    ];
  }

  private async switchFault(group: string, method: 'PUT' | 'DELETE', body?: unknown) {
    const targets = this.upTargets().filter((t) =>
      this.status.get(t.id)?.info?.capabilities.faults.includes(group),
    );
    if (targets.length === 0) throw new OpsCapabilityMissingError(`consumer group ${group}`);
    const { answers, errors } = await fanOut(
      targets,
      method,
      `/ops/faults/${encodeURIComponent(group)}`,
      body,
    );
    return { instances: answers.map((a) => a.target.id), errors };
  }
}
