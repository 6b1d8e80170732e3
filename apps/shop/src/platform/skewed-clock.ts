/**
 * A clock that runs a fixed offset away from another one. The chaos harness starts a service
 * with `SHOP_CLOCK_OFFSET_MS` to skew it against its peers — the way a machine whose NTP
 * drifted would be — while its timers still fire after real durations.
 */
import { type Clock, systemClock } from '@trellis/core';

/**
 * `base` shifted by `offsetMs` (positive: ahead). Returns `base` itself for an offset of 0, so
 * an unskewed process keeps the shared system clock.
 *
 * @example
 * ```ts
 * const clock = skewedClock(Number(process.env.SHOP_CLOCK_OFFSET_MS ?? 0));
 * clock.now(); // Date.now() + offset
 * ```
 */
export function skewedClock(offsetMs: number, base: Clock = systemClock): Clock {
  if (offsetMs === 0) return base;
  return {
    now: () => base.now() + offsetMs,
    setTimeout: (fn, ms) => base.setTimeout(fn, ms),
    clearTimeout: (handle) => base.clearTimeout(handle),
  };
}
