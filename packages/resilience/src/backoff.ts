/**
 * Delay schedules between retry attempts. Exponential growth capped at `maxDelay`, with
 * jitter so that many clients failing together do not retry together:
 * - `full`: uniform in [0, exp] (AWS "full jitter"; the default, best at spreading load);
 * - `decorrelated`: uniform in [initial, 3 × previous delay], capped (AWS "decorrelated");
 * - `none`: exactly the exponential value (for tests and fixed schedules).
 */
import { invalid, num } from './validate.js';

/** Jitter kinds, see the module comment. */
export type Jitter = 'full' | 'decorrelated' | 'none';

/** Shape of the back-off between retries. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). Default 100. */
  initialDelay?: number;
  /** Upper bound of any delay (ms). Default 10 000. */
  maxDelay?: number;
  /** Growth factor per attempt. Default 2. */
  multiplier?: number;
  /** Default `'full'`. */
  jitter?: Jitter;
}

/** A resolved back-off schedule. */
export class Backoff {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly multiplier: number;
  readonly jitter: Jitter;

  /** Throws `ValidationError` for negative delays or a multiplier below 1. */
  constructor(options: BackoffOptions = {}) {
    this.initialDelay = num('backoff.initialDelay', options.initialDelay ?? 100, 0);
    this.maxDelay = num('backoff.maxDelay', options.maxDelay ?? 10_000, this.initialDelay);
    this.multiplier = num('backoff.multiplier', options.multiplier ?? 2, 1);
    this.jitter = options.jitter ?? 'full';
    if (!['full', 'decorrelated', 'none'].includes(this.jitter)) {
      invalid('backoff.jitter', "expected 'full', 'decorrelated' or 'none'");
    }
  }

  /**
   * Delay before retry number `retry` (1 for the first retry). `previous` is the delay used
   * before the previous retry (decorrelated jitter grows from it); `random` returns [0, 1).
   */
  delay(retry: number, previous: number, random: () => number): number {
    const exp = Math.min(this.maxDelay, this.initialDelay * this.multiplier ** (retry - 1));
    switch (this.jitter) {
      case 'none':
        return exp;
      case 'full':
        return Math.floor(random() * exp);
      case 'decorrelated': {
        const base = this.initialDelay;
        const upper = Math.max(base, Math.min(this.maxDelay, (previous || base) * 3));
        return Math.min(this.maxDelay, Math.floor(base + random() * (upper - base)));
      }
    }
  }
}
