/**
 * Keeps the most recent finished spans in memory, grouped by trace, so an ops console can
 * show a trace waterfall without a collector. Bounded: a ring of `capacity` spans; the oldest
 * span is dropped when a new one arrives. One recorder can be shared by every service in a
 * process, so a trace that crosses services in embedded mode is seen whole.
 */
import { type HrTime, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A finished span as plain data. Times are epoch milliseconds. */
export interface RecordedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  /** `service.name` of the tracer that recorded it. */
  service: string;
  startMs: number;
  durationMs: number;
  status: 'unset' | 'ok' | 'error';
  statusMessage: string | undefined;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; timeMs: number; attributes: Record<string, unknown> }>;
}

/** One trace in a listing. */
export interface TraceSummary {
  traceId: string;
  /** Name of the root span (or the earliest span when the root is not recorded here). */
  rootName: string;
  services: string[];
  startMs: number;
  durationMs: number;
  spanCount: number;
  error: boolean;
}

const KINDS: RecordedSpan['kind'][] = ['internal', 'server', 'client', 'producer', 'consumer'];

function ms(t: HrTime): number {
  return t[0] * 1000 + t[1] / 1e6;
}

/** Converts an SDK span to a {@link RecordedSpan}. */
export function toRecordedSpan(span: ReadableSpan): RecordedSpan {
  const ctx = span.spanContext();
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: KINDS[span.kind] ?? 'internal',
    service: String(span.resource.attributes['service.name'] ?? 'unknown'),
    startMs: ms(span.startTime),
    durationMs: ms(span.duration),
    status:
      span.status.code === SpanStatusCode.ERROR
        ? 'error'
        : span.status.code === SpanStatusCode.OK
          ? 'ok'
          : 'unset',
    statusMessage: span.status.message,
    attributes: { ...span.attributes },
    events: span.events.map((e) => ({ name: e.name, timeMs: ms(e.time), attributes: { ...e.attributes } })),
  };
}

/**
 * An in-process span store. Register it as a span processor through `createTracing({ recorder })`.
 *
 * @example
 * ```ts
 * const recorder = new SpanRecorder({ capacity: 20_000 });
 * const tracing = createTracing({ serviceName: 'orders', recorder });
 * // later, in the console:
 * recorder.recentTraces({ limit: 20 });
 * recorder.trace(traceId); // spans sorted by start time
 * ```
 */
export class SpanRecorder implements SpanProcessor {
  readonly capacity: number;
  private readonly ring: Array<RecordedSpan | undefined>;
  private next = 0;
  private readonly byTrace = new Map<string, RecordedSpan[]>();
  private readonly listeners = new Set<(span: RecordedSpan) => void>();

  constructor(options: { capacity?: number } = {}) {
    this.capacity = Math.max(1, Math.floor(options.capacity ?? 10_000));
    this.ring = new Array(this.capacity);
  }

  /** Number of spans held. */
  get size(): number {
    let n = 0;
    for (const list of this.byTrace.values()) n += list.length;
    return n;
  }

  /** Stores a span (also usable directly, without OpenTelemetry). */
  record(span: RecordedSpan): void {
    const old = this.ring[this.next];
    if (old) {
      const list = this.byTrace.get(old.traceId);
      if (list) {
        // The evicted span is the oldest held, so it is first in its trace's list.
        const i = list.indexOf(old);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.byTrace.delete(old.traceId);
      }
    }
    this.ring[this.next] = span;
    this.next = (this.next + 1) % this.capacity;
    const list = this.byTrace.get(span.traceId);
    if (list) list.push(span);
    else this.byTrace.set(span.traceId, [span]);
    for (const l of this.listeners) l(span);
  }

  /** The spans of one trace, sorted by start time (empty when unknown or evicted). */
  trace(traceId: string): RecordedSpan[] {
    return [...(this.byTrace.get(traceId) ?? [])].sort((a, b) => a.startMs - b.startMs);
  }

  /** The most recently active traces, newest first. */
  recentTraces(options: { limit?: number; service?: string; errorsOnly?: boolean } = {}): TraceSummary[] {
    const out: TraceSummary[] = [];
    for (const [traceId, spans] of this.byTrace) {
      if (options.service && !spans.some((s) => s.service === options.service)) continue;
      const summary = summarise(traceId, spans);
      if (options.errorsOnly && !summary.error) continue;
      out.push(summary);
    }
    out.sort((a, b) => b.startMs - a.startMs);
    return out.slice(0, options.limit ?? 50);
  }

  /** Calls `listener` with every span recorded from now on; returns the unsubscribe function. */
  subscribe(listener: (span: RecordedSpan) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops every span. */
  clear(): void {
    this.ring.fill(undefined);
    this.byTrace.clear();
    this.next = 0;
  }

  // SpanProcessor
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.record(toRecordedSpan(span));
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function summarise(traceId: string, spans: RecordedSpan[]): TraceSummary {
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  let root: RecordedSpan | undefined;
  let error = false;
  const services = new Set<string>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) {
    start = Math.min(start, s.startMs);
    end = Math.max(end, s.startMs + s.durationMs);
    services.add(s.service);
    if (s.status === 'error') error = true;
    const isRoot = !s.parentSpanId || !ids.has(s.parentSpanId);
    if (isRoot && (!root || s.startMs < root.startMs)) root = s;
  }
  return {
    traceId,
    rootName: root?.name ?? '',
    services: [...services],
    startMs: start,
    durationMs: end - start,
    spanCount: spans.length,
    error,
  };
}
