/**
 * A retry budget (Finagle/Envoy style): retries may make up at most `ratio` of the calls of
 * the last `windowMs`, plus a floor of `minRetriesPerSecond` so low traffic can still retry.
 * Share one budget across every retry policy that calls the same dependency: when it is down,
 * retries stop multiplying the load on it instead of tripling it.
 */
import { type Clock, systemClock } from '@trellis/core';
import { int, num, rate } from './validate.js';

/** Configuration of a {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed as a share of calls in the window. Default 0.2 (20 %). */
  ratio?: number;
  /** Retries always allowed per second of window, whatever the traffic. Default 1. */
  minRetriesPerSecond?: number;
  /** Length of the window (ms). Default 10 000. */
  windowMs?: number;
  /** Time slices of the window. Default 10. */
  buckets?: number;
  clock?: Clock;
}

/**
 * Tracks calls and retries over a sliding time window and decides whether one more retry is
 * within budget.
 *
 * @example
 * ```ts
 * const budget = new RetryBudget({ ratio: 0.1 });
 * const inventoryRetry = retry({ maxAttempts: 3, budget });
 * ```
 */
export class RetryBudget {
  readonly ratio: number;
  readonly minRetriesPerSecond: number;
  readonly windowMs: number;
  private readonly clock: Clock;
  private readonly bucketMs: number;
  private readonly n: number;
  private readonly calls: Uint32Array;
  private readonly retries: Uint32Array;
  private head = -1;
  private totalCalls = 0;
  private totalRetries = 0;

  /** Throws `ValidationError` when an option is out of range. */
  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = options.ratio === undefined ? 0.2 : rate('ratio', options.ratio);
    this.minRetriesPerSecond = num('minRetriesPerSecond', options.minRetriesPerSecond ?? 1, 0);
    this.windowMs = num('windowMs', options.windowMs ?? 10_000, 1);
    this.n = int('buckets', options.buckets ?? 10, 1);
    this.bucketMs = this.windowMs / this.n;
    this.calls = new Uint32Array(this.n);
    this.retries = new Uint32Array(this.n);
    this.clock = options.clock ?? systemClock;
  }

  /** Counts one original call (not a retry). Retry policies call this for you. */
  recordCall(): void {
    const slot = this.slot();
    this.calls[slot] = (this.calls[slot] as number) + 1;
    this.totalCalls++;
  }

  /** Takes one retry from the budget; false when the budget is spent (do not retry). */
  tryRetry(): boolean {
    const slot = this.slot();
    if (this.totalRetries + 1 > this.allowed()) return false;
    this.retries[slot] = (this.retries[slot] as number) + 1;
    this.totalRetries++;
    return true;
  }

  /** Calls and retries in the window, and how many retries the budget allows now. */
  get stats(): { calls: number; retries: number; allowed: number } {
    this.slot();
    return { calls: this.totalCalls, retries: this.totalRetries, allowed: Math.floor(this.allowed()) };
  }

  private allowed(): number {
    return this.minRetriesPerSecond * (this.windowMs / 1000) + this.ratio * this.totalCalls;
  }

  /** Current slot, after clearing every slot that slid out of the window. */
  private slot(): number {
    const idx = Math.floor(this.clock.now() / this.bucketMs);
    if (idx > this.head) {
      const from = this.head < 0 || idx - this.head >= this.n ? idx - this.n + 1 : this.head + 1;
      for (let i = from; i <= idx; i++) {
        const s = ((i % this.n) + this.n) % this.n;
        this.totalCalls -= this.calls[s] as number;
        this.totalRetries -= this.retries[s] as number;
        this.calls[s] = 0;
        this.retries[s] = 0;
      }
      this.head = idx;
    }
    return ((this.head % this.n) + this.n) % this.n;
  }
}
