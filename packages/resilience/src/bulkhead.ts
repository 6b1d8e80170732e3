/**
 * Bulkhead: at most `maxConcurrent` calls run at once, at most `maxQueue` wait for a slot,
 * and the rest are rejected at once with `BulkheadRejectedError`. A slot is freed only when
 * the work's promise settles — when the work has really ended — never when a caller stops
 * waiting. Put a timeout outside the bulkhead: a caller that times out leaves the queue at
 * once, and a running call is told to stop through its signal (resilience4j #905).
 */
import { BulkheadRejectedError } from './errors.js';
import { Listeners } from './listeners.js';
import type { Policy, Work } from './policy.js';
import { rejectLater } from './reject-later.js';
import { abortError, neverAborted } from './signal.js';
import { int } from './validate.js';

/** Configuration of a {@link Bulkhead}. */
export interface BulkheadOptions {
  /** Calls allowed to run at once. */
  maxConcurrent: number;
  /** Calls allowed to wait for a slot (FIFO). Default 0: reject as soon as all slots are busy. */
  maxQueue?: number;
}

interface Waiter {
  fn: Work<unknown>;
  signal: AbortSignal;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onAbort: (() => void) | undefined;
  cancelled: boolean;
}

/**
 * Limits concurrency. Throws `BulkheadRejectedError` when every slot and queue place is
 * taken, `AbortedError` (or the signal's Trellis reason) when the caller aborts while queued.
 *
 * @example
 * ```ts
 * const payments = new Bulkhead({ maxConcurrent: 10, maxQueue: 50 });
 * await payments.execute((signal) => psp.charge(order, { signal }));
 * ```
 */
export class Bulkhead implements Policy {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  private running = 0;
  private waiting = 0;
  private queue: Waiter[] = [];
  private head = 0;
  private readonly rejectedListeners = new Listeners<{ running: number; queued: number }>();
  private readonly release = (): void => {
    this.running--;
    this.next();
  };

  /** Throws `ValidationError` when a limit is not a positive integer. */
  constructor(options: BulkheadOptions) {
    this.maxConcurrent = int('maxConcurrent', options.maxConcurrent, 1);
    this.maxQueue = int('maxQueue', options.maxQueue ?? 0, 0, true);
  }

  /** Calls running now. */
  get active(): number {
    return this.running;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.waiting;
  }

  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    const sig = signal ?? neverAborted;
    if (sig.aborted) return Promise.reject(abortError(sig));
    if (this.running < this.maxConcurrent) return this.run(fn, sig);
    if (this.waiting >= this.maxQueue) {
      if (this.rejectedListeners.active) {
        this.rejectedListeners.emit({ running: this.running, queued: this.waiting });
      }
      return rejectLater(BulkheadRejectedError.fast(this.maxConcurrent, this.maxQueue));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        fn,
        signal: sig,
        resolve: resolve as (value: unknown) => void,
        reject,
        onAbort: undefined,
        cancelled: false,
      };
      if (sig !== neverAborted) {
        waiter.onAbort = () => {
          waiter.cancelled = true;
          this.waiting--;
          this.compactIfMostlyCancelled();
          reject(abortError(sig));
        };
        sig.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.waiting++;
    });
  }

  /** Subscribes to rejections; returns the unsubscribe function. */
  onRejected(listener: (event: { running: number; queued: number }) => void): () => void {
    return this.rejectedListeners.add(listener);
  }

  private run<T>(fn: Work<T>, signal: AbortSignal): Promise<T> {
    this.running++;
    let promise: Promise<T>;
    try {
      const work = fn(signal);
      promise = work instanceof Promise ? work : Promise.resolve(work);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(this.release, this.release);
    return promise;
  }

  /** Cancelled waiters stay in the array until dequeued; drop them before they pile up. */
  private compactIfMostlyCancelled(): void {
    if (this.queue.length - this.head > 2 * this.waiting + 64) {
      this.queue = this.queue.slice(this.head).filter((w) => !w.cancelled);
      this.head = 0;
    }
  }

  /** Starts the oldest waiter that is still waiting, if a slot is free. */
  private next(): void {
    while (this.running < this.maxConcurrent && this.head < this.queue.length) {
      const waiter = this.queue[this.head] as Waiter;
      this.queue[this.head] = undefined as unknown as Waiter;
      this.head++;
      if (waiter.cancelled) continue;
      this.waiting--;
      if (waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      this.run(waiter.fn, waiter.signal).then(waiter.resolve, waiter.reject);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    } else if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
  }
}

/** Creates a {@link Bulkhead}. Throws `ValidationError` when a limit is not a positive integer. */
export function bulkhead(options: BulkheadOptions): Bulkhead {
  return new Bulkhead(options);
}
