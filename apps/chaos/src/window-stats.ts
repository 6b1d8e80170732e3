/**
 * Measurements over the load's order records: what a window of time looked like (orders
 * settled per second, error rate) and when the system recovered after a fault. Pure functions,
 * so the steady-state rules are exact and tested.
 */
import type { OrderRecord } from './load-driver.js';
import type { OrderOutcome } from './order-outcome.js';

/** Counts by outcome. */
export type OutcomeCounts = Record<OrderOutcome, number>;

/** Orders that ended within a window. */
export interface WindowStats {
  fromMs: number;
  toMs: number;
  /** Orders that ended in the window. */
  ended: number;
  /** Completed or compensated orders (a definite answer) per second of the window. */
  ordersPerSecond: number;
  /** Failed and rejected orders over all that ended in the window (0 when none ended). */
  errorRate: number;
  outcomes: OutcomeCounts;
}

/** The steady-state hypothesis: enough orders settle, few fail. */
export interface SteadyState {
  /** Lowest acceptable orders/s. */
  minOrdersPerSecond: number;
  /** Highest acceptable error rate (0–1). */
  maxErrorRate: number;
}

/** A verdict on the hypothesis for one window. */
export interface Hypothesis {
  holds: boolean;
  stats: WindowStats;
  /** Why it does not hold ('' when it does). */
  why: string;
}

/** Zeroed outcome counts. */
export function emptyOutcomes(): OutcomeCounts {
  return { completed: 0, compensated: 0, failed: 0, rejected: 0 };
}

/** Tallies outcomes of `records`. */
export function countOutcomes(records: readonly OrderRecord[]): OutcomeCounts {
  const out = emptyOutcomes();
  for (const r of records) out[r.outcome]++;
  return out;
}

const settled = (r: OrderRecord) => r.outcome === 'completed' || r.outcome === 'compensated';

/** What ended in [fromMs, toMs). */
export function windowStats(records: readonly OrderRecord[], fromMs: number, toMs: number): WindowStats {
  const inside = records.filter((r) => r.endedAt >= fromMs && r.endedAt < toMs);
  const outcomes = countOutcomes(inside);
  const seconds = Math.max(0.001, (toMs - fromMs) / 1000);
  const errors = outcomes.failed + outcomes.rejected;
  return {
    fromMs,
    toMs,
    ended: inside.length,
    ordersPerSecond: (outcomes.completed + outcomes.compensated) / seconds,
    errorRate: inside.length === 0 ? 0 : errors / inside.length,
    outcomes,
  };
}

/** Checks the steady-state hypothesis against a window. */
export function checkHypothesis(stats: WindowStats, steady: SteadyState): Hypothesis {
  const why: string[] = [];
  if (stats.ordersPerSecond < steady.minOrdersPerSecond)
    why.push(`${stats.ordersPerSecond.toFixed(2)} orders/s < ${steady.minOrdersPerSecond}`);
  if (stats.errorRate > steady.maxErrorRate)
    why.push(
      `error rate ${(stats.errorRate * 100).toFixed(1)} % > ${(steady.maxErrorRate * 100).toFixed(1)} %`,
    );
  return { holds: why.length === 0, stats, why: why.join('; ') };
}

/**
 * When the system was back after a fault ended at `sinceMs`: the end time of the `streak`-th
 * consecutive order (among those started after `sinceMs`, in the order they ended) that got a
 * definite answer; a failure or rejection restarts the count. With `counting: 'completed'`
 * only completed orders count and compensated ones are passed over — for faults whose degraded
 * mode is to compensate quickly (a card processor outage), where a compensation is not yet
 * recovery. Undefined while not recovered.
 */
export function recoveredAt(
  records: readonly OrderRecord[],
  sinceMs: number,
  streak = 3,
  counting: 'settled' | 'completed' = 'settled',
): number | undefined {
  const after = records.filter((r) => r.startedAt >= sinceMs).sort((a, b) => a.endedAt - b.endedAt);
  let run = 0;
  for (const r of after) {
    if (counting === 'completed' && r.outcome === 'compensated') continue;
    run = settled(r) ? run + 1 : 0;
    if (run >= streak) return r.endedAt;
  }
  return undefined;
}
