/**
 * The alert conditions of a Trellis system, evaluated in-process over scraped metrics. They
 * are the same conditions, names, `for` durations and summaries as the Prometheus rules file
 * shipped in `prometheus/trellis-alerts.rules.yml` (a test runs both on one scripted
 * scenario — this evaluator and `promtool test rules` — and requires the same alerts).
 */
import { aggregate, type MetricHistory, type Vector } from './metric-history.js';

/** Tunable thresholds; the defaults are the rules file's. */
export interface AlertThresholds {
  /** A breaker not closed for this long alerts. Default 2 min. */
  breakerOpenForMs: number;
  /** Window in which any new dead letter alerts. Default 10 min. */
  deadLetterWindowMs: number;
  /** Messages waiting for one consumer group. Default 1000. */
  consumerLag: number;
  consumerLagForMs: number;
  /** Outbox rows not yet published. Default 500. */
  outboxBacklog: number;
  outboxBacklogForMs: number;
  /** Availability objective the error budget comes from. Default 0.999. */
  sloTarget: number;
  /** Burn rate that pages (14.4 spends 2 % of a 30-day budget in an hour). */
  burnRate: number;
  instanceDownForMs: number;
}

/** Defaults (identical to the rules file). */
export const DEFAULT_THRESHOLDS: AlertThresholds = {
  breakerOpenForMs: 2 * 60_000,
  deadLetterWindowMs: 10 * 60_000,
  consumerLag: 1000,
  consumerLagForMs: 2 * 60_000,
  outboxBacklog: 500,
  outboxBacklogForMs: 5 * 60_000,
  sloTarget: 0.999,
  burnRate: 14.4,
  instanceDownForMs: 60_000,
};

/** One rule. */
export interface AlertRule {
  name: string;
  severity: 'critical' | 'warning';
  /** How long the condition must hold before the alert fires (pending until then). */
  forMs: number;
  /** Templates with `{{ $labels.name }}` placeholders. */
  summary: string;
  description: string;
  /** The label sets for which the condition holds now, with the value that crossed the line. */
  evaluate(history: MetricHistory, now: number): Vector;
}

const M = 60_000;

function ratio(num: Vector, den: Vector, by: readonly string[]): Vector {
  const out: Vector = [];
  for (const d of aggregate(den, by)) {
    const key = JSON.stringify(d.labels);
    const n = aggregate(num, by).find((x) => JSON.stringify(x.labels) === key)?.value ?? 0;
    if (d.value > 0) out.push({ labels: d.labels, value: n / d.value });
  }
  return out;
}

/**
 * The rules with `thresholds` applied.
 *
 * @example
 * ```ts
 * const evaluator = new AlertEvaluator({ rules: trellisAlertRules({ consumerLag: 5000 }) });
 * ```
 */
export function trellisAlertRules(overrides: Partial<AlertThresholds> = {}): AlertRule[] {
  const t = { ...DEFAULT_THRESHOLDS, ...overrides };
  const errorRatio = (h: MetricHistory, rangeMs: number, now: number) =>
    ratio(
      h.rate('http_server_requests_total', { status: /5../ }, rangeMs, now),
      h.rate('http_server_requests_total', {}, rangeMs, now),
      ['service'],
    );
  return [
    {
      name: 'TrellisInstanceDown',
      severity: 'critical',
      forMs: t.instanceDownForMs,
      summary: '{{ $labels.instance }} is not answering scrapes',
      description: 'The instance {{ $labels.instance }} of {{ $labels.service }} did not serve /metrics.',
      evaluate: (h, now) => h.latest('up', {}, now).filter((v) => v.value === 0),
    },
    {
      name: 'TrellisCircuitBreakerOpen',
      severity: 'warning',
      forMs: t.breakerOpenForMs,
      summary: 'Breaker {{ $labels.breaker }} in {{ $labels.service }} is not closed',
      description:
        'The circuit breaker {{ $labels.breaker }} of {{ $labels.service }} has been open or half-open for a while: its dependency keeps failing.',
      evaluate: (h, now) =>
        aggregate(h.latest('trellis_circuit_breaker_state', { state: { not: 'CLOSED' } }, now), [
          'service',
          'breaker',
        ]).filter((v) => v.value > 0),
    },
    {
      name: 'TrellisDeadLettersGrowing',
      severity: 'warning',
      forMs: 0,
      summary: 'New dead letters in {{ $labels.service }} ({{ $labels.group }})',
      description:
        'Consumer group {{ $labels.group }} of {{ $labels.service }} dead-lettered messages recently: inspect and replay them.',
      evaluate: (h, now) => {
        const grown = aggregate(
          h.increase('trellis_bus_dead_lettered_total', {}, t.deadLetterWindowMs, now),
          ['service', 'group'],
        ).filter((v) => v.value > 0);
        // increase() misses a counter's first appearance: series new within the window count too.
        const fresh = aggregate(
          h.newSince('trellis_bus_dead_lettered_total', now - t.deadLetterWindowMs, now),
          ['service', 'group'],
        ).filter((v) => v.value > 0);
        const key = (l: Record<string, string>) => `${l.service}|${l.group}`;
        return [...grown, ...fresh.filter((f) => !grown.some((g) => key(g.labels) === key(f.labels)))];
      },
    },
    {
      name: 'TrellisSagaFailed',
      severity: 'critical',
      forMs: 0,
      summary: 'Failed {{ $labels.saga }} sagas need attention',
      description:
        'At least one {{ $labels.saga }} saga of {{ $labels.service }} ended failed (its compensation failed): inspect and resume it.',
      evaluate: (h, now) =>
        aggregate(
          h.latest('trellis_saga_instances', { state: 'failed' }, now),
          ['service', 'saga'],
          'max',
        ).filter((v) => v.value > 0),
    },
    {
      name: 'TrellisConsumerLagHigh',
      severity: 'warning',
      forMs: t.consumerLagForMs,
      summary: 'Consumer group {{ $labels.group }} in {{ $labels.service }} is falling behind',
      description: 'More than the allowed number of messages wait for {{ $labels.group }}.',
      evaluate: (h, now) =>
        aggregate(h.latest('trellis_bus_pending', {}, now), ['service', 'group'], 'max').filter(
          (v) => v.value > t.consumerLag,
        ),
    },
    {
      name: 'TrellisOutboxBacklog',
      severity: 'warning',
      forMs: t.outboxBacklogForMs,
      summary: 'Outbox of {{ $labels.service }} is not draining',
      description: 'Committed events of {{ $labels.service }} are not being published to the bus.',
      evaluate: (h, now) =>
        aggregate(h.latest('trellis_outbox_backlog', {}, now), ['service'], 'max').filter(
          (v) => v.value > t.outboxBacklog,
        ),
    },
    {
      name: 'TrellisErrorBudgetBurn',
      severity: 'critical',
      forMs: 2 * M,
      summary: '{{ $labels.service }} is burning its error budget fast',
      description:
        'The share of 5xx answers of {{ $labels.service }} over both the last hour and the last 5 minutes is more than 14.4 times the SLO allows.',
      evaluate: (h, now) => {
        const limit = t.burnRate * (1 - t.sloTarget);
        const long = errorRatio(h, 60 * M, now).filter((v) => v.value > limit);
        const short = errorRatio(h, 5 * M, now).filter((v) => v.value > limit);
        return long.filter((l) => short.some((s) => s.labels.service === l.labels.service));
      },
    },
  ];
}
