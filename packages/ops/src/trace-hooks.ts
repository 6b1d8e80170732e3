/**
 * Spans for the parts of a trace that the HTTP runtime does not see: bus consumers and saga
 * steps. A consumer span joins the publisher's trace through the message's `traceparent`; a
 * saga step runs inside a span under the trace the saga was started in (restored from the
 * saga's stored trace context, so it holds after a crash too). Both land in the process's span
 * recorder, so the console's waterfall shows gateway → service → saga steps → the services
 * they call → bus consumers.
 */

import type { MessageHandler } from '@trellis/messaging';
import type { SagaDefinition, SagaRunInfo, SagaStep } from '@trellis/saga';
import type { Carrier, Tracing } from '@trellis/service';

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
 * The same saga with every step and compensation run inside an INTERNAL span
 * (`saga <name> <phase> <step>`, one per attempt) under the trace the saga was started in:
 * the step's calls to other services become its children, events it appends carry its
 * `traceparent`, and a saga resumed after a crash — by another worker, outside any request —
 * still lands in the waterfall of the request that started it. Register the returned
 * definition (not the original) with the runner. Without tracing it returns `definition`.
 *
 * @example
 * ```ts
 * const saga = tracedSaga(service.tracing, placeOrderSaga(deps));
 * runner.register(saga);
 * await runner.start(saga, input, { trace: { traceparent: currentTraceparent() } });
 * ```
 */
export function tracedSaga<D extends Pick<SagaDefinition, 'name' | 'steps'>>(
  tracing: Tracing | undefined,
  definition: D,
): D {
  if (!tracing?.recording) return definition;
  const steps = definition.steps.map((step): SagaStep<never> => {
    const run =
      (phase: 'execute' | 'compensate', fn: (ctx: never) => unknown) => (ctx: { saga: SagaRunInfo }) =>
        tracing.saga(
          definition.name,
          step.name,
          (span) => {
            span.setAttribute('trellis.saga.attempt', ctx.saga.attempt);
            if (ctx.saga.trace.correlationId)
              span.setAttribute('trellis.correlation_id', ctx.saga.trace.correlationId);
            return fn(ctx as never);
          },
          { phase, sagaId: ctx.saga.id, carrier: ctx.saga.trace as Carrier },
        );
    const compensate = step.compensate;
    return {
      ...step,
      execute: run('execute', step.execute.bind(step)),
      ...(compensate ? { compensate: run('compensate', compensate.bind(step)) } : {}),
    };
  });
  return { ...definition, steps } as D;
}
