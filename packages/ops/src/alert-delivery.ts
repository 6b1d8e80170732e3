/**
 * Delivery of alert notifications to one notifier, off the evaluation path: a webhook that
 * hangs or is down must not stall the scrapes and charts that evaluation runs between. One
 * delivery at a time per notifier, so a receiver sees an alert's `firing` before its
 * `resolved`; what could not be delivered stays queued (the newest status per alert wins) and
 * goes out with the next attempt, so an outage of the receiver loses nothing.
 */
import type { AlertNotification, AlertNotifier } from './alert-evaluator.js';

/** The queue of one notifier. */
export class NotificationQueue {
  private readonly waiting = new Map<string, AlertNotification>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly notifier: AlertNotifier,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Notifications waiting to be delivered (after a failure, until the next attempt). */
  get size(): number {
    return this.waiting.size;
  }

  /** Queues `notifications` (replacing a queued one for the same alert) and starts a delivery. */
  push(notifications: readonly AlertNotification[]): void {
    for (const n of notifications) {
      // Re-inserted, so the batch keeps the order in which statuses changed.
      this.waiting.delete(n.alert.id);
      this.waiting.set(n.alert.id, n);
    }
    this.kick();
  }

  /** Starts a delivery of what is queued unless one is running (it picks up what arrives meanwhile). */
  kick(): void {
    if (this.running || this.waiting.size === 0) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no delivery is running. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.waiting.size > 0) {
      const batch = [...this.waiting.values()];
      this.waiting.clear();
      try {
        await this.notifier.notify(batch);
      } catch (error) {
        // Back in the queue unless a newer status of the same alert arrived meanwhile; the next
        // evaluation tries again.
        const newer = new Map(this.waiting);
        this.waiting.clear();
        for (const n of batch) this.waiting.set(n.alert.id, n);
        for (const [id, n] of newer) {
          this.waiting.delete(id);
          this.waiting.set(id, n);
        }
        this.onError(error);
        return;
      }
    }
  }
}
