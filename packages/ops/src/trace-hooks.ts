/**
 * Spans for the parts of a trace that the HTTP runtime does not see: bus consumers and saga
 * steps. A consumer span joins the publisher's trace through the message's `traceparent`; a
 * saga step becomes a span under the trace the saga was started in, recorded when the step
 * finishes (its start is its end minus its duration). Both land in the process's span
 * recorder, so the console's waterfall shows gateway → service → bus → saga steps.
 */

import { randomBytes } from 'node:crypto';
import type { MessageHandler } from '@trellis/messaging';
import type { SagaObserver } from '@trellis/saga';
import type { RecordedSpan, SpanRecorder, Tracing } from '@trellis/service';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** Splits a W3C `traceparent`; undefined when absent or malformed. */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value);
  return m ? { traceId: m[1] as string, spanId: m[2] as string } : undefined;
}

/**
 * Wraps a bus handler in a CONSUMER span (`process <topic>`) that joins the trace in the
 * message's `traceparent`. Without tracing it returns the handler unchanged.
 */
export function tracedHandler<P>(
  tracing: Tracing | undefined,
  group: string,
  handler: MessageHandler<P>,
): MessageHandler<P> {
  if (!tracing?.recording) return handler;
  return (message, context) =>
    tracing.bus('process', message.topic, () => handler(message, context), {
      carrier: message.headers as Record<string, string>,
      attributes: {
        'messaging.consumer.group.name': group,
        'messaging.message.id': message.id,
        ...(message.headers.correlationId ? { 'trellis.correlation_id': message.headers.correlationId } : {}),
      },
    });
}

/**
 * A saga observer that records one span per finished step (and compensation) into
 * `recorder`, under the saga's trace. Steps of a saga started without a `traceparent` get a
 * trace of their own, keyed by the saga id, so its waterfall still exists.
 */
export function sagaSpanObserver(
  recorder: SpanRecorder,
  service: string,
  now = () => Date.now(),
): SagaObserver {
  const fallback = new Map<string, string>();
  const traceOf = (sagaId: string, traceparent: string | undefined) => {
    const parsed = parseTraceparent(traceparent);
    if (parsed) return parsed;
    let traceId = fallback.get(sagaId);
    if (!traceId) {
      traceId = randomBytes(16).toString('hex');
      fallback.set(sagaId, traceId);
      if (fallback.size > 10_000) fallback.delete(fallback.keys().next().value as string);
    }
    return { traceId, spanId: undefined };
  };
  return {
    stepFinished(e) {
      const { traceId, spanId } = traceOf(e.sagaId, e.trace.traceparent);
      const end = now();
      const span: RecordedSpan = {
        traceId,
        spanId: randomBytes(8).toString('hex'),
        parentSpanId: spanId,
        name: `saga ${e.saga} ${e.phase} ${e.step}`,
        kind: 'internal',
        service,
        startMs: end - e.durationMs,
        durationMs: e.durationMs,
        status: e.outcome === 'ok' ? 'ok' : 'error',
        statusMessage: e.outcome === 'ok' ? undefined : e.outcome,
        attributes: {
          'trellis.saga.name': e.saga,
          'trellis.saga.id': e.sagaId,
          'trellis.saga.step': e.step,
          'trellis.saga.phase': e.phase,
          'trellis.saga.attempts': e.attempts,
          ...(e.trace.correlationId ? { 'trellis.correlation_id': e.trace.correlationId } : {}),
        },
        events: [],
      };
      recorder.record(span);
    },
  };
}
