import type { Clock, TimerHandle } from '@trellis/core';

/**
 * Waits for "something new may have been appended": a store commit notification, or the
 * poll interval elapsing (for writers the store cannot hear, e.g. another process on SQLite).
 *
 * A notification that arrives while the reader is busy is remembered, so a reader that
 * calls `arm()` before reading and `wait()` after can never miss one.
 */
export class Wakeup {
  private dirty = false;
  private pending: { resolve: () => void; timer: TimerHandle } | undefined;
  private closed = false;
  private readonly unwatch: () => void;

  constructor(
    watch: (listener: () => void) => () => void,
    private readonly clock: Clock,
    private readonly pollIntervalMs: number,
  ) {
    this.unwatch = watch(() => this.fire());
  }

  /** Call right before reading: later notifications make the next `wait` return at once. */
  arm(): void {
    this.dirty = false;
  }

  /** Resolves on the next notification (or one since `arm`), the poll interval, or `close`. */
  wait(): Promise<void> {
    if (this.dirty || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(() => this.fire(), this.pollIntervalMs);
      this.pending = { resolve, timer };
    });
  }

  /** Wakes the waiter now. */
  fire(): void {
    this.dirty = true;
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.clock.clearTimeout(p.timer);
    p.resolve();
  }

  /** Stops listening and releases any waiter; the timer is cleared. */
  close(): void {
    this.closed = true;
    this.unwatch();
    this.fire();
  }
}
