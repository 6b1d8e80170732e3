/**
 * Cheap time reads for hot paths (internal). `Date.now()` costs ~40 ns, as much as the whole
 * rest of a breaker's success path, and a timed call needs two. For the real clock, policies
 * read {@link coarseNow} instead: the time is read once and reused until the current
 * event-loop turn ends (a `setImmediate` invalidates it) or 64 reads have been served, so
 * the value is never older than one turn. Durations measured this way are exact to within a
 * turn, which is what matters for slow-call thresholds of tens of milliseconds and more; a
 * turn that runs longer than that is itself a slow call for every caller in it.
 *
 * Injected clocks (a `ManualClock` in tests) are always read directly.
 */
import { type Clock, systemClock } from '@trellis/core';

let cached = 0;
let valid = false;
let reads = 0;

function invalidate(): void {
  valid = false;
}

/** `Date.now()`, cached for at most one event-loop turn or 64 reads. */
export function coarseNow(): number {
  if (valid && ++reads < 64) return cached;
  cached = Date.now();
  reads = 0;
  if (!valid) {
    valid = true;
    setImmediate(invalidate).unref();
  }
  return cached;
}

/** The fastest correct `now()` for `clock`: {@link coarseNow} for the system clock. */
export function fastNow(clock: Clock): () => number {
  return clock === systemClock ? coarseNow : () => clock.now();
}
