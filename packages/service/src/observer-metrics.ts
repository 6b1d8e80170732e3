/**
 * Ready-made observers that turn the bus's and the saga runner's metric hooks into Prometheus
 * metrics. They are typed structurally (this package does not depend on @trellis/messaging or
 * @trellis/saga), so they can be passed straight to a bus (`BusObserver`) or a saga runner
 * (`SagaObserver`).
 */
import type { ServiceMetrics } from './metrics.js';

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Bus observer hooks (the shape of `BusObserver` in @trellis/messaging). */
export interface BusMetricsObserver {
  published(e: { transport: string; topic: string }): void;
  handled(e: {
    transport: string;
    group: string;
    topic: string;
    durationMs: number;
    latencyMs: number;
  }): void;
  retried(e: { transport: string; group: string; topic: string }): void;
  deadLettered(e: { transport: string; group: string; topic: string; reason: string }): void;
  lag(e: { transport: string; group: string; pattern: string; pending: number; inFlight: number }): void;
  relayed(e: { count: number; backlog?: number }): void;
}

/**
 * Prometheus metrics for a bus: `trellis_bus_published_total`, `trellis_bus_handled_total`,
 * `trellis_bus_retried_total`, `trellis_bus_dead_lettered_total{reason}`,
 * `trellis_bus_handler_seconds`, `trellis_bus_latency_seconds` (publish to handled),
 * `trellis_bus_pending` / `trellis_bus_in_flight` per group, `trellis_outbox_relayed_total`
 * and `trellis_outbox_pending`.
 *
 * @example
 * ```ts
 * const bus = new SqliteBus(db, { observer: busMetricsObserver(service.metrics!) });
 * ```
 */
export function busMetricsObserver(metrics: ServiceMetrics): BusMetricsObserver {
  const h = metrics.hooks({
    published: {
      type: 'counter',
      name: 'trellis_bus_published_total',
      help: 'Messages published',
      labels: ['transport', 'topic'],
    },
    handled: {
      type: 'counter',
      name: 'trellis_bus_handled_total',
      help: 'Messages handled',
      labels: ['transport', 'group', 'topic'],
    },
    retried: {
      type: 'counter',
      name: 'trellis_bus_retried_total',
      help: 'Handling retries',
      labels: ['transport', 'group', 'topic'],
    },
    deadLettered: {
      type: 'counter',
      name: 'trellis_bus_dead_lettered_total',
      help: 'Messages moved to the dead-letter store',
      labels: ['transport', 'group', 'topic', 'reason'],
    },
    handlerSeconds: {
      type: 'histogram',
      name: 'trellis_bus_handler_seconds',
      help: 'Handler run time',
      labels: ['transport', 'group', 'topic'],
      buckets: LATENCY_BUCKETS,
    },
    latencySeconds: {
      type: 'histogram',
      name: 'trellis_bus_latency_seconds',
      help: 'Time from publish to handled',
      labels: ['transport', 'group', 'topic'],
      buckets: LATENCY_BUCKETS,
    },
    pending: {
      type: 'gauge',
      name: 'trellis_bus_pending',
      help: 'Messages waiting for a consumer group',
      labels: ['transport', 'group', 'pattern'],
    },
    inFlight: {
      type: 'gauge',
      name: 'trellis_bus_in_flight',
      help: 'Messages being handled by a consumer group',
      labels: ['transport', 'group', 'pattern'],
    },
    relayed: { type: 'counter', name: 'trellis_outbox_relayed_total', help: 'Outbox rows published' },
    outboxPending: {
      type: 'gauge',
      name: 'trellis_outbox_pending',
      help: 'Outbox rows waiting after the last relay batch',
    },
  });
  return {
    published: (e) => h.published({ transport: e.transport, topic: e.topic }),
    handled: (e) => {
      const labels = { transport: e.transport, group: e.group, topic: e.topic };
      h.handled(labels);
      h.handlerSeconds(labels, e.durationMs / 1000);
      h.latencySeconds(labels, e.latencyMs / 1000);
    },
    retried: (e) => h.retried({ transport: e.transport, group: e.group, topic: e.topic }),
    deadLettered: (e) =>
      h.deadLettered({ transport: e.transport, group: e.group, topic: e.topic, reason: e.reason }),
    lag: (e) => {
      const labels = { transport: e.transport, group: e.group, pattern: e.pattern };
      h.pending(labels, e.pending);
      h.inFlight(labels, e.inFlight);
    },
    relayed: (e) => {
      h.relayed({}, e.count);
      if (e.backlog !== undefined) h.outboxPending({}, e.backlog);
    },
  };
}

type SagaBase = { saga: string };

/** Saga observer hooks (the shape of `SagaObserver` in @trellis/saga). */
export interface SagaMetricsObserver {
  sagaStarted(e: SagaBase): void;
  sagaCompleted(e: SagaBase & { durationMs: number }): void;
  sagaCompensated(e: SagaBase & { durationMs: number }): void;
  sagaFailed(e: SagaBase): void;
  sagaResumed(e: SagaBase & { reason: string }): void;
  stepFinished(e: SagaBase & { step: string; phase: string; outcome: string; durationMs: number }): void;
  stepRetried(e: SagaBase & { step: string; phase: string }): void;
}

/**
 * Prometheus metrics for sagas: `trellis_saga_transitions_total{saga,state}` (started,
 * completed, compensated, failed, resumed), `trellis_saga_running{saga}`,
 * `trellis_saga_seconds{saga,outcome}`, `trellis_saga_step_seconds{saga,step,phase,outcome}` and
 * `trellis_saga_step_retries_total`. Alert on `state="failed"`.
 */
export function sagaMetricsObserver(metrics: ServiceMetrics): SagaMetricsObserver {
  const h = metrics.hooks({
    transition: {
      type: 'counter',
      name: 'trellis_saga_transitions_total',
      help: 'Saga state transitions, by saga and new state',
      labels: ['saga', 'state'],
    },
    duration: {
      type: 'histogram',
      name: 'trellis_saga_seconds',
      help: 'Saga duration, by outcome',
      labels: ['saga', 'outcome'],
      buckets: LATENCY_BUCKETS,
    },
    step: {
      type: 'histogram',
      name: 'trellis_saga_step_seconds',
      help: 'Saga step duration, by step, phase and outcome',
      labels: ['saga', 'step', 'phase', 'outcome'],
      buckets: LATENCY_BUCKETS,
    },
    retries: {
      type: 'counter',
      name: 'trellis_saga_step_retries_total',
      help: 'Failed step attempts that were retried',
      labels: ['saga', 'step', 'phase'],
    },
  });
  const running = new Map<string, number>();
  metrics.gaugeFrom(
    'trellis_saga_running',
    'Saga instances started (or resumed) in this process and not yet finished',
    () => [...running].map(([saga, value]) => ({ labels: { saga }, value })),
    ['saga'],
  );
  const move = (saga: string, delta: number) =>
    running.set(saga, Math.max(0, (running.get(saga) ?? 0) + delta));
  return {
    sagaStarted: (e) => {
      h.transition({ saga: e.saga, state: 'started' });
      move(e.saga, 1);
    },
    sagaCompleted: (e) => {
      h.transition({ saga: e.saga, state: 'completed' });
      h.duration({ saga: e.saga, outcome: 'completed' }, e.durationMs / 1000);
      move(e.saga, -1);
    },
    sagaCompensated: (e) => {
      h.transition({ saga: e.saga, state: 'compensated' });
      h.duration({ saga: e.saga, outcome: 'compensated' }, e.durationMs / 1000);
      move(e.saga, -1);
    },
    sagaFailed: (e) => {
      h.transition({ saga: e.saga, state: 'failed' });
      move(e.saga, -1);
    },
    sagaResumed: (e) => {
      h.transition({ saga: e.saga, state: 'resumed' });
      move(e.saga, 1);
    },
    stepFinished: (e) =>
      h.step({ saga: e.saga, step: e.step, phase: e.phase, outcome: e.outcome }, e.durationMs / 1000),
    stepRetried: (e) => h.retries({ saga: e.saga, step: e.step, phase: e.phase }),
  };
}
