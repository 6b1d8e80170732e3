/**
 * OpenTelemetry spans for runs, model calls and tool calls, named and attributed after the
 * GenAI semantic conventions (`invoke_agent`, `chat {model}`, `execute_tool {name}`). Spans are
 * parented explicitly (no reliance on a context manager), and each tool runs inside its span's
 * context, so instrumented clients and {@link traceHeaders} carry the trace to the services a
 * tool calls.
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';

/** The tracer used when none is injected (a no-op until an SDK is registered). */
export function defaultTracer(): Tracer {
  return trace.getTracer('@trellis/agent', '0.1.0');
}

/** Starts a child span of `parent` and returns it with the context that has it active. */
export function startChildSpan(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  parent: Context,
  kind: SpanKind = SpanKind.INTERNAL,
): { span: Span; ctx: Context } {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

/** Ends a span, marking it failed with `code`/`message` when given. */
export function endSpan(span: Span, failure?: { code: string; message: string }): void {
  if (failure) {
    span.setAttribute('error.type', failure.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  }
  span.end();
}

/**
 * Headers that carry the trace of `ctx` to a downstream service: whatever the registered
 * propagator writes, and at least a W3C `traceparent` when the span context is valid (so the
 * trace id reaches services even when no propagator was registered).
 */
export function traceHeaders(ctx: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const spanContext = trace.getSpanContext(ctx);
  if (!carrier.traceparent && spanContext && trace.isSpanContextValid(spanContext)) {
    const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
    carrier.traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
    const state = spanContext.traceState?.serialize();
    if (state) carrier.tracestate = state;
  }
  return carrier;
}

/** The trace id of the span active in `ctx`, if any. */
export function traceIdOf(ctx: Context): string | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** Runs `fn` with `ctx` active, so ambient-context instrumentation sees the tool's span. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** The currently active context (the caller's, e.g. an incoming HTTP request's span). */
export function activeContext(): Context {
  return context.active();
}

export { SpanKind };
