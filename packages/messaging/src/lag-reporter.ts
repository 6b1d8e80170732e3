import type { Clock, TimerHandle } from '@trellis/core';
import type { ConsumerLag } from './bus.js';
import { type BusObserver, notify } from './observer.js';

/**
 * Reports a subscription's backlog to `observer.lag` every `intervalMs` (only when the
 * observer listens for lag). Returns a function that stops it and clears the timer.
 */
export function startLagReporter(options: {
  observer: BusObserver | undefined;
  intervalMs: number;
  clock: Clock;
  transport: string;
  group: string;
  pattern: string;
  lag: () => Promise<ConsumerLag>;
}): () => void {
  const { observer, intervalMs, clock } = options;
  if (!observer?.lag || !(intervalMs > 0)) return () => {};
  let timer: TimerHandle | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      const lag = await options.lag();
      if (stopped) return;
      notify(observer, 'lag', {
        transport: options.transport,
        group: options.group,
        pattern: options.pattern,
        ...lag,
      });
    } catch {
      // A failed lag probe is not worth failing anything for; the next tick tries again.
    }
    if (!stopped) timer = clock.setTimeout(tick, intervalMs);
  };
  timer = clock.setTimeout(tick, intervalMs);
  return () => {
    stopped = true;
    if (timer) clock.clearTimeout(timer);
  };
}
