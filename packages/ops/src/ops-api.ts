/**
 * The ops API of one service instance: what the console needs from it, served under `/ops`
 * by the service itself (admin or ops role only) — instance, uptime and health, breakers with
 * their recent transitions, sagas (list, timeline, resume), dead letters (list, inspect,
 * replay, purge), the event log and streams, read-model rows, recorded spans, and consumer
 * fault switches. Each capability is offered only when its source is provided; asking an
 * instance for one it lacks is a 404 `OPS_CAPABILITY_MISSING`.
 */
import { type Clock, NotFoundError, systemClock } from '@trellis/core';
import type { EventStore } from '@trellis/eventstore';
import type { DeadLetterStore } from '@trellis/messaging';
import { SagaInspector, type SagaStore } from '@trellis/saga';
import { type RecordedSpan, type Route, route, type Service } from '@trellis/service';
import { BreakerBoard } from './breaker-board.js';
import { ConsumerFaults } from './consumer-faults.js';
import { OpsCapabilityMissingError } from './errors.js';
import { opsApi } from './ops-contract.js';
import { FilteringSpanRecorder } from './span-filter.js';
import { eventView, findTraces, traceIdOf } from './views.js';

/** Options of {@link OpsApi}. */
export interface OpsApiOptions {
  /** Service name. */
  service: string;
  /** This instance's id (`orders#1`); default the service name. */
  instance?: string;
  version?: string;
  clock?: Clock;
  /** Spans kept for trace waterfalls. Default 10 000. */
  spanCapacity?: number;
}

/** What the ops API reads from an event store: any backend's (SQLite, PostgreSQL, in-memory). */
export type EventLog = Pick<EventStore<never>, 'headPosition' | 'readAll' | 'getEvents'>;

/** What an instance can answer, listed in `/ops/info`. */
export interface OpsCapabilities {
  breakers: boolean;
  sagas: boolean;
  deadLetters: boolean;
  events: boolean;
  readModels: string[];
  traces: boolean;
  faults: string[];
}

/**
 * The ops API of an instance. Create it before the service (its recorder and breaker board
 * go into the service's tracing and metrics), pass {@link OpsApi.routes} with the service's
 * routes, then {@link OpsApi.attach} the service.
 *
 * @example
 * ```ts
 * const ops = new OpsApi({ service: 'orders', instance: 'orders#0' });
 * const metrics = ops.board.watch(new ServiceMetrics({ serviceName: 'orders' }));
 * const service = createService({
 *   name: 'orders', routes: [...routes, ...ops.routes()], metrics,
 *   tracing: { recorder: ops.recorder }, internalAuth: { mode: 'required', verifier },
 * });
 * ops.attach(service).provideSagas(store, runner).provideEvents(events).provideDeadLetters(dlq);
 * ```
 */
export class OpsApi {
  readonly board: BreakerBoard;
  /** Spans of this process for trace waterfalls (probes, scrapes and ops calls are not kept). */
  readonly recorder: FilteringSpanRecorder;
  readonly faults = new ConsumerFaults();
  readonly service: string;
  readonly instance: string;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private host: Service | undefined;
  private sagas:
    | { inspector: SagaInspector; resume?: (id: string, note: string) => Promise<unknown> }
    | undefined;
  private deadLetters: DeadLetterStore | undefined;
  private events: EventLog | undefined;
  private readonly readModels = new Map<string, (id: string) => Promise<unknown>>();

  constructor(private readonly options: OpsApiOptions) {
    this.clock = options.clock ?? systemClock;
    this.service = options.service;
    this.instance = options.instance ?? options.service;
    this.startedAt = this.clock.now();
    this.board = new BreakerBoard({ clock: this.clock });
    this.recorder = new FilteringSpanRecorder({ capacity: options.spanCapacity ?? 10_000 });
  }

  /** Keeps spans for which `predicate` is true out of the recorder (e.g. the console's own traffic). */
  hideSpans(predicate: (span: RecordedSpan) => boolean): this {
    this.recorder.hide(predicate);
    return this;
  }

  /** The service whose health and lifecycle `/ops/info` reports; closes the board with it. */
  attach(service: Service): this {
    this.host = service;
    service.onClose('ops breaker board', () => this.board.close());
    return this;
  }

  /** Sagas of this instance's store; `runner` resumes in this process (else the next worker does). */
  provideSagas(store: SagaStore, runner?: { resume(id: string, note?: string): Promise<unknown> }): this {
    this.sagas = {
      inspector: new SagaInspector(store, this.clock),
      ...(runner ? { resume: (id: string, note: string) => runner.resume(id, note) } : {}),
    };
    return this;
  }

  /** The dead-letter store of this instance's consumer groups (list, inspect, replay, purge). */
  provideDeadLetters(store: DeadLetterStore): this {
    this.deadLetters = store;
    return this;
  }

  /** The event store whose global log and streams the console browses. */
  provideEvents(store: EventLog): this {
    this.events = store;
    return this;
  }

  /** A read model row lookup by id (an order's summary…); undefined answers 404. */
  provideReadModel(name: string, lookup: (id: string) => Promise<unknown>): this {
    this.readModels.set(name, lookup);
    return this;
  }

  /** What this instance can answer (listed in `/ops/info`; the aggregator routes by it). */
  capabilities(): OpsCapabilities {
    return {
      breakers: true,
      sagas: this.sagas !== undefined,
      deadLetters: this.deadLetters !== undefined,
      events: this.events !== undefined,
      readModels: [...this.readModels.keys()],
      traces: true,
      faults: this.faults.knownGroups(),
    };
  }

  /** What `/ops/info` answers. */
  async info() {
    const now = this.clock.now();
    const health = this.host ? await this.host.health.ready() : { status: 'ready', checks: {} };
    return {
      service: this.service,
      instance: this.instance,
      version: this.options.version ?? '0.0.0',
      pid: process.pid,
      node: process.version,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeMs: now - this.startedAt,
      rssBytes: process.memoryUsage.rss(),
      health,
      capabilities: this.capabilities(),
    };
  }

  private need<T>(value: T | undefined, capability: string): T {
    if (value === undefined) throw new OpsCapabilityMissingError(capability, this.instance);
    return value;
  }

  /** The routes to pass to `createService` (or to an aggregator's service). */
  routes(): Route[] {
    const sagas = () => this.need(this.sagas, 'sagas');
    const dlq = () => this.need(this.deadLetters, 'dead letters');
    const events = () => this.need(this.events, 'events');
    return [
      route(opsApi.info, () => this.info()),
      route(opsApi.breakers, () => ({ instance: this.instance, items: this.board.list() })),
      route(opsApi.sagas, async ({ query }) => {
        const items = await sagas().inspector.list({
          ...(query.status ? { status: query.status } : {}),
          ...(query.name ? { name: query.name } : {}),
          ...(query.before ? { before: query.before } : {}),
          limit: query.q ? 1000 : query.limit,
        });
        const q = query.q?.toLowerCase();
        const chosen = q ? items.filter((s) => s.id.toLowerCase().includes(q)).slice(0, query.limit) : items;
        return {
          counts: await sagas().inspector.counts(),
          items: chosen.map(({ context: _c, input: _i, ...s }) => ({ ...s, traceId: traceIdOf(s.trace) })),
        };
      }),
      route(opsApi.saga, async ({ params }) => {
        const t = await sagas().inspector.timeline(params.id);
        return { ...t, traceId: traceIdOf(t.instance.trace) };
      }),
      route(opsApi.resumeSaga, async ({ params, body, ctx }) => {
        const note = body.note ?? `resumed by ${ctx.identity?.subject ?? 'operator'} from the console`;
        const s = sagas();
        if (s.resume) await s.resume(params.id, note);
        else await s.inspector.requestResume(params.id, note);
        return { resumed: true, instance: await s.inspector.get(params.id) };
      }),
      route(opsApi.deadLetters, async ({ query }) => {
        const { limit, offset, ...filter } = query;
        const [items, total] = await Promise.all([
          dlq().list(filter, { limit, offset }),
          dlq().count(filter),
        ]);
        return { items: items.map((d) => ({ ...d, traceId: traceIdOf(d.headers) })), total };
      }),
      route(opsApi.deadLetter, async ({ params }) => {
        const d = await dlq().get(params.id);
        if (!d) throw new NotFoundError(`No dead letter ${params.id}`);
        return { ...d, traceId: traceIdOf(d.headers) };
      }),
      route(opsApi.replayDeadLetters, async ({ body }) => ({ replayed: await dlq().replay(body) })),
      route(opsApi.purgeDeadLetters, async ({ body }) => ({ purged: await dlq().purge(body) })),
      route(opsApi.events, async ({ query }) => {
        const store = events();
        const head = await store.headPosition();
        const end = Math.min(query.before ?? head + 1, head + 1); // exclusive
        const from = Math.max(0, end - 1 - query.limit);
        const items = (await store.readAll(from, end - 1 - from)).reverse().map(eventView);
        return { head, items };
      }),
      route(opsApi.stream, async ({ params }) => {
        const items = (await events().getEvents(params.id)).map(eventView);
        if (items.length === 0) throw new NotFoundError(`No stream ${params.id}`);
        return { id: params.id, version: items.at(-1)?.version ?? 0, items };
      }),
      route(opsApi.readModel, async ({ params }) => {
        const lookup = this.need(this.readModels.get(params.name), `read model ${params.name}`);
        const row = await lookup(params.id);
        if (row === undefined || row === null) throw new NotFoundError(`No ${params.name} row ${params.id}`);
        return { name: params.name, id: params.id, row };
      }),
      route(opsApi.traces, ({ query }) => ({
        items: findTraces(this.recorder, {
          limit: query.limit,
          errorsOnly: query.errorsOnly === 'true',
          ...(query.q ? { q: query.q } : {}),
        }),
      })),
      route(opsApi.trace, ({ params }) => ({
        traceId: params.traceId,
        spans: this.recorder.trace(params.traceId),
      })),
      route(opsApi.faults, () => ({ groups: this.faults.knownGroups(), armed: this.faults.list() })),
      route(opsApi.armFault, ({ params, body }) => {
        if (!this.faults.knownGroups().includes(params.group))
          throw new OpsCapabilityMissingError(`consumer group ${params.group}`, this.instance);
        return { armed: this.faults.arm(params.group, body) };
      }),
      route(opsApi.disarmFault, ({ params }) => ({ disarmed: this.faults.disarm(params.group) })),
    ];
  }
}
