/** Plain-data views shared by the instance API and the aggregator. */
import type { DomainEvent } from '@trellis/eventstore';
import type { SpanRecorder, TraceSummary } from '@trellis/service';
import { parseTraceparent } from './trace-hooks.js';

/** An event as JSON (ISO timestamp). */
export function eventView(e: DomainEvent) {
  return {
    id: e.id,
    aggregateId: e.aggregateId,
    aggregateType: e.aggregateType,
    eventType: e.eventType,
    version: e.version,
    position: e.position,
    timestamp: e.timestamp.toISOString(),
    schemaVersion: e.schemaVersion,
    payload: e.payload,
    metadata: e.metadata,
    traceId: traceIdOf(e.metadata),
  };
}

/** The trace id in a carrier's `traceparent` (saga trace, message headers, event metadata). */
export function traceIdOf(carrier: { traceparent?: unknown } | null | undefined): string | null {
  return parseTraceparent(carrier?.traceparent)?.traceId ?? null;
}

/**
 * Recent traces, newest first; with `q`, only traces one of whose spans has an attribute
 * equal to `q` (a correlation id, saga id, message id, request id) or a name containing it.
 */
export function findTraces(
  recorder: SpanRecorder,
  options: { limit: number; errorsOnly?: boolean; q?: string },
): TraceSummary[] {
  if (!options.q)
    return recorder.recentTraces({ limit: options.limit, errorsOnly: options.errorsOnly ?? false });
  const q = options.q;
  const out: TraceSummary[] = [];
  for (const t of recorder.recentTraces({
    limit: recorder.capacity,
    errorsOnly: options.errorsOnly ?? false,
  })) {
    if (
      t.traceId === q ||
      recorder.trace(t.traceId).some((s) => s.name.includes(q) || Object.values(s.attributes).includes(q))
    )
      out.push(t);
    if (out.length >= options.limit) break;
  }
  return out;
}
