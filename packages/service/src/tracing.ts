/**
 * OpenTelemetry tracing for a service: W3C `traceparent` in and out, helpers that put spans
 * around database, bus and saga work, OTLP export when configured and an in-process
 * {@link SpanRecorder} when given. With neither, spans are not recorded at all (an always-off
 * sampler) but trace ids still flow, so logs stay correlated at almost no cost.
 */
import {
  type Attributes,
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { SpanRecorder } from './span-recorder.js';

/** Options of {@link createTracing}. */
export interface TracingOptions {
  /** `service.name` of every span. */
  serviceName: string;
  serviceVersion?: string;
  /** OTLP/HTTP collector base URL (`http://collector:4318`); spans are batched and exported there. */
  otlpEndpoint?: string;
  /** Headers for the OTLP exporter (authentication). */
  otlpHeaders?: Record<string, string>;
  /** In-process recorder keeping recent spans queryable (e.g. for the ops console). */
  recorder?: SpanRecorder;
  /** More span processors (tests, other exporters). */
  processors?: SpanProcessor[];
  /** Share of new root traces recorded, 0–1. Default 1. Remote parents' decisions are kept. */
  sampleRatio?: number;
}

let contextManagerInstalled = false;

/** Installs the AsyncLocalStorage context manager once per process (spans follow `await`). */
export function ensureContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

const propagator = new W3CTraceContextPropagator();

/** Headers-like carrier (HTTP headers, event metadata, bus headers). */
export type Carrier = Record<string, string | string[] | undefined>;

/**
 * A service's tracer with the helpers Trellis code uses. Several services in one process each
 * have their own (own `service.name`); the context manager is shared.
 */
export class Tracing {
  readonly tracer: Tracer;
  /** True when spans are recorded (an exporter, recorder or processor is configured). */
  readonly recording: boolean;
  private readonly provider: BasicTracerProvider;

  constructor(options: TracingOptions) {
    ensureContextManager();
    const processors: SpanProcessor[] = [...(options.processors ?? [])];
    if (options.recorder) processors.push(options.recorder);
    if (options.otlpEndpoint) {
      const url = `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
      processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url, headers: options.otlpHeaders })));
    }
    this.recording = processors.length > 0;
    const ratio = options.sampleRatio ?? 1;
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': options.serviceName,
        ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
      }),
      sampler: this.recording
        ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) })
        : new AlwaysOffSampler(),
      spanProcessors: processors,
    });
    this.tracer = this.provider.getTracer('@trellis/service');
  }

  /**
   * Runs `fn` inside a new active span; the span ends when `fn` settles, with status ERROR
   * and the exception recorded when it throws.
   *
   * @example
   * ```ts
   * await tracing.withSpan('price order', async (span) => { span.setAttribute('items', n); ... });
   * ```
   */
  withSpan<T>(
    name: string,
    fn: (span: Span) => Promise<T> | T,
    options: { kind?: SpanKind; attributes?: Attributes; parent?: Context } = {},
  ): Promise<T> {
    const parent = options.parent ?? context.active();
    const span = this.tracer.startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
    return context.with(trace.setSpan(parent, span), async () => {
      try {
        return await fn(span);
      } catch (error) {
        markError(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /** A CLIENT span around a database call (`db.system`, `db.operation.name`). */
  db<T>(operation: string, fn: (span: Span) => Promise<T> | T, attributes: Attributes = {}): Promise<T> {
    return this.withSpan(`db ${operation}`, fn, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.operation.name': operation, ...attributes },
    });
  }

  /**
   * A span around bus work: `publish` is a PRODUCER span, `process` a CONSUMER span. For
   * `process`, pass the message headers as `carrier` so the span joins the publisher's trace.
   */
  bus<T>(
    operation: 'publish' | 'process',
    topic: string,
    fn: (span: Span) => Promise<T> | T,
    options: { carrier?: Carrier; attributes?: Attributes } = {},
  ): Promise<T> {
    return this.withSpan(`${operation} ${topic}`, fn, {
      kind: operation === 'publish' ? SpanKind.PRODUCER : SpanKind.CONSUMER,
      attributes: {
        'messaging.operation.type': operation,
        'messaging.destination.name': topic,
        ...options.attributes,
      },
      parent: options.carrier ? extractContext(options.carrier) : undefined,
    });
  }

  /** An INTERNAL span around one saga step (or its compensation). */
  saga<T>(
    saga: string,
    step: string,
    fn: (span: Span) => Promise<T> | T,
    options: { phase?: 'execute' | 'compensate'; sagaId?: string; carrier?: Carrier } = {},
  ): Promise<T> {
    const phase = options.phase ?? 'execute';
    return this.withSpan(`saga ${saga} ${phase} ${step}`, fn, {
      attributes: {
        'trellis.saga.name': saga,
        'trellis.saga.step': step,
        'trellis.saga.phase': phase,
        ...(options.sagaId ? { 'trellis.saga.id': options.sagaId } : {}),
      },
      parent: options.carrier ? extractContext(options.carrier) : undefined,
    });
  }

  /** Exports pending spans (before shutdown or in tests). */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Flushes and stops exporting. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** Creates a service's {@link Tracing}. */
export function createTracing(options: TracingOptions): Tracing {
  return new Tracing(options);
}

/** Marks a span failed and records the exception. */
export function markError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** Writes `traceparent` (and `tracestate`) of `ctx` (default: the active context) into `carrier`. */
export function injectContext<C extends Record<string, unknown>>(
  carrier: C,
  ctx: Context = context.active(),
): C {
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

/** The context described by a carrier's `traceparent`, on top of the active context. */
export function extractContext(carrier: Carrier, base: Context = context.active()): Context {
  return propagator.extract(base, carrier, defaultTextMapGetter);
}

/** The active `traceparent` value, or undefined outside a span. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  injectContext(carrier);
  return carrier.traceparent;
}

/** Runs `fn` inside the trace context carried by `carrier` (e.g. a consumed message's headers). */
export function withRemoteContext<T>(carrier: Carrier, fn: () => T): T {
  return context.with(extractContext(carrier), fn);
}
