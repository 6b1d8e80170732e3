/**
 * What an experiment is. Each one names a real fault, how long it is held, from when its
 * recovery is measured, and the checks that prove the fault bit (observed while it is in place)
 * and that the system came back as it should (verified after recovery). The harness runs them
 * all the same way: steady state → fault under load → removal → recovery → steady state →
 * invariants (see `runExperiment`).
 */
import type { ChaosShop } from './chaos-shop.js';
import type { ShopAdmin } from './shop-admin.js';

/** Kinds of fault, for selecting experiments by group. */
export type ExperimentCategory = 'process' | 'hang' | 'server' | 'network' | 'dependency' | 'clock';

/** What an experiment works with. */
export interface ExperimentContext {
  readonly shop: ChaosShop;
  readonly admin: ShopAdmin;
  log(line: string): void;
}

/** A named pass/fail fact an experiment establishes. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A fault in place. */
export interface InjectedFault {
  /** What exactly was done (a pid, an address), for the report. */
  detail: string;
  /** Checks made while the fault is in place, just before it is removed (proof that it bit). */
  observe?(): Promise<Check[]>;
  /** Removes the fault; resolves once it is gone (process back, server up, link healed). */
  remove(): Promise<void>;
}

/** When things happened (epoch ms). */
export interface FaultTimes {
  injectedAt: number;
  removedAt: number;
  recoveredAt: number | undefined;
}

/** What an experiment needs from the shop. */
export interface Requirements {
  /** PostgreSQL, NATS and Redis (distributed mode). */
  distributed?: boolean;
  /** Network namespaces (partition experiments). */
  namespaces?: boolean;
  /** A process that must exist (`orders#1`). */
  process?: string;
  /** An instance the harness isolated (for its proxies). */
  isolated?: string;
}

/** One experiment. */
export interface Experiment {
  /** Stable name for selection (`kill-orders`). */
  name: string;
  category: ExperimentCategory;
  /** The fault in one line, for the table. */
  fault: string;
  /** What the experiment shows, for the README and `--list`. */
  hypothesis: string;
  requires?: Requirements;
  /** How long the fault stays before removal (ms; 0 = at once). Scaled by the run's `--hold`. */
  holdMs: number;
  /** Recovery is timed from the injection (a kill heals itself) or from the removal. */
  recoverFrom: 'injection' | 'removal';
  /**
   * What counts as recovered: orders settle again (completed or compensated; the default), or
   * orders complete again, for faults whose degraded mode is a fast compensation.
   */
  recoveredWhen?: 'settled' | 'completed';
  /**
   * The shop must keep serving while the fault holds (redundancy or buffering should absorb
   * it: a replica partitioned away, the bus down behind the outbox): the steady-state
   * hypothesis is checked on the fault window too, not only before and after.
   */
  servesThroughout?: boolean;
  inject(ctx: ExperimentContext): Promise<InjectedFault>;
  /** Checks after recovery (e.g. the breaker closed again). */
  verify?(ctx: ExperimentContext, times: FaultTimes): Promise<Check[]>;
}

/** Polls `probe` every `everyMs` until it returns a value or `timeoutMs` passes (then undefined). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 250,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
