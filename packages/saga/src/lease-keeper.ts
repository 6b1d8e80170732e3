/**
 * Keeps the leases of the instances a runner is driving. Checkpoints extend a lease as a side
 * effect, so a fast saga never needs a renewal; only instances sitting in a long step (or a
 * retry back-off) are renewed, all of them in one statement per tick. When a renewal is
 * refused, another worker has claimed the instance: its step is aborted through the step's
 * signal, and its next checkpoint would be fenced out anyway.
 */
import type { Clock, TimerHandle } from '@trellis/core';
import { SagaLeaseLostError } from './errors.js';
import { notify, type SagaObserver } from './observer.js';
import type { SagaStore } from './store.js';

/** What the runner tracks per instance it drives. */
export interface ActiveInstance {
  readonly id: string;
  version: number;
  leaseUntil: number;
  readonly controller: AbortController;
}

/** Renews leases on a timer (every third of the lease). */
export class LeaseKeeper {
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly store: SagaStore,
    private readonly clock: Clock,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly active: Map<string, ActiveInstance>,
    private readonly observer: SagaObserver | undefined,
  ) {}

  /** Arms the timer if it is not armed (called whenever an instance becomes active). */
  ensureRunning(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.tick(), Math.max(1, Math.floor(this.leaseMs / 3)));
  }

  /** Stops for good (runner close). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One renewal round; public so tests can drive it. */
  async tick(): Promise<void> {
    this.timer = undefined;
    const now = this.clock.now();
    const due = [...this.active.values()]
      .filter((a) => !a.controller.signal.aborted && a.leaseUntil - now < (this.leaseMs * 2) / 3)
      .map((a) => ({ id: a.id, version: a.version }));
    if (due.length > 0) {
      const until = now + this.leaseMs;
      try {
        const renewed = new Set(await this.store.renew(this.owner, due, until));
        for (const held of due) {
          const a = this.active.get(held.id);
          // A checkpoint that committed meanwhile bumped the version and renewed the lease itself.
          if (!a || a.version !== held.version) continue;
          if (renewed.has(held.id)) a.leaseUntil = Math.max(a.leaseUntil, until);
          else a.controller.abort(new SagaLeaseLostError(held.id));
        }
      } catch (error) {
        notify(this.observer, 'storeError', { operation: 'renew', error });
      }
    }
    if (this.active.size > 0) this.ensureRunning();
  }
}
