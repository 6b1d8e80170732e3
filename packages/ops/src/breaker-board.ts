/**
 * Every circuit breaker of a process, with its recent transitions, for the console. Breakers
 * join the board where they already join the metrics: {@link BreakerBoard.watch} wraps a
 * `ServiceMetrics`, so each breaker a service exposes as a metric (its clients' breakers, a
 * breaker around a card processor) is on the board too, with no other wiring.
 */
import { type Clock, systemClock } from '@trellis/core';
import type { BreakerLike, ServiceMetrics } from '@trellis/service';

/** One state change as the console shows it. */
export interface BreakerTransition {
  from: string;
  to: string;
  reason: string;
  /** Epoch ms. */
  at: number;
}

/** A breaker as the console shows it. */
export interface BreakerView {
  name: string;
  /** `CLOSED`, `OPEN` or `HALF_OPEN`. */
  state: string;
  /** Epoch ms of the last transition (undefined: never changed since the process started). */
  since: number | undefined;
  successes: number;
  failures: number;
  rejections: number;
  /** Newest last. */
  transitions: BreakerTransition[];
}

/** What a breaker may offer beyond {@link BreakerLike} (a resilience `CircuitBreaker` does). */
type Observable = BreakerLike & {
  onStateChange?: (
    listener: (e: { from: string; to: string; reason: string; at: number }) => void,
  ) => (() => void) | undefined;
};

interface Entry {
  breaker: Observable;
  transitions: BreakerTransition[];
  stop: (() => void) | undefined;
}

/**
 * The breakers of a process.
 *
 * @example
 * ```ts
 * const board = new BreakerBoard();
 * const metrics = board.watch(new ServiceMetrics({ serviceName: 'payments' }));
 * metrics.trackBreaker(cardProcessorBreaker, 'card-processor'); // now on the board too
 * board.list(); // [{ name: 'card-processor', state: 'CLOSED', transitions: [] … }]
 * ```
 */
export class BreakerBoard {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly keep: number;

  constructor(
    options: { clock?: Clock /** Transitions kept per breaker. Default 20. */; keep?: number } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.keep = Math.max(1, options.keep ?? 20);
  }

  /** Adds a breaker; returns its removal function. A second breaker with the same name replaces the first. */
  track(breaker: BreakerLike, name = breaker.name): () => void {
    this.entries.get(name)?.stop?.();
    const entry: Entry = { breaker, transitions: [], stop: undefined };
    const observable = breaker as Observable;
    if (typeof observable.onStateChange === 'function') {
      entry.stop =
        observable.onStateChange((e) => {
          entry.transitions.push({ from: e.from, to: e.to, reason: e.reason, at: e.at ?? this.clock.now() });
          if (entry.transitions.length > this.keep) entry.transitions.shift();
        }) ?? undefined;
    }
    this.entries.set(name, entry);
    return () => {
      if (this.entries.get(name) !== entry) return;
      entry.stop?.();
      this.entries.delete(name);
    };
  }

  /**
   * Makes every breaker later passed to `metrics.trackBreaker` join this board as well.
   * Returns the same metrics object.
   */
  watch<M extends ServiceMetrics>(metrics: M): M {
    const original = metrics.trackBreaker.bind(metrics);
    metrics.trackBreaker = (breaker: BreakerLike, name = breaker.name) => {
      const untrackMetric = original(breaker, name);
      const untrackBoard = this.track(breaker, name);
      return () => {
        untrackMetric();
        untrackBoard();
      };
    };
    return metrics;
  }

  /** Every breaker, by name. */
  list(): BreakerView[] {
    return [...this.entries]
      .map(([name, { breaker, transitions }]) => ({
        name,
        state: String(breaker.state),
        since: transitions.at(-1)?.at,
        successes: breaker.metrics?.successes ?? 0,
        failures: breaker.metrics?.failures ?? 0,
        rejections: breaker.metrics?.rejections ?? 0,
        transitions: [...transitions],
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Stops listening to every breaker. */
  close(): void {
    for (const e of this.entries.values()) e.stop?.();
    this.entries.clear();
  }
}
