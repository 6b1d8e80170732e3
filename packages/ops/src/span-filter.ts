/**
 * Which spans an instance keeps for the console. A process answers health probes every second
 * and the console's own polling every few: recorded, those requests would push real traces out
 * of the bounded recorder within minutes and bury them in the trace list. They are the system
 * looking at itself, so they are not recorded at all; more can be hidden per process (the
 * gateway hides the requests it forwards to the console).
 */
import { type RecordedSpan, SpanRecorder } from '@trellis/service';

const HOUSEKEEPING = /^\/(health|metrics|ops|openapi\.json)(\/|$)/;

/** A server span of a probe, a scrape, the OpenAPI document or the ops API. */
export function isHousekeepingSpan(span: RecordedSpan): boolean {
  if (span.kind !== 'server') return false;
  const path = span.attributes['http.route'] ?? span.attributes['url.path'];
  return typeof path === 'string' && HOUSEKEEPING.test(path);
}

/**
 * A span recorder that drops housekeeping spans and whatever else is hidden.
 *
 * @example
 * ```ts
 * const recorder = new FilteringSpanRecorder({ capacity: 10_000 });
 * recorder.hide((s) => s.attributes['trellis.upstream'] === 'console');
 * ```
 */
export class FilteringSpanRecorder extends SpanRecorder {
  private readonly hidden: Array<(span: RecordedSpan) => boolean> = [isHousekeepingSpan];

  /** Also drops spans for which `predicate` is true. */
  hide(predicate: (span: RecordedSpan) => boolean): this {
    this.hidden.push(predicate);
    return this;
  }

  override record(span: RecordedSpan): void {
    for (const hidden of this.hidden) if (hidden(span)) return;
    super.record(span);
  }
}
