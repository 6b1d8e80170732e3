/**
 * Timeouts that cancel, not just stop waiting: the work receives an `AbortSignal` that is
 * aborted (with the `TimeoutError` as its reason) when the time is up, so `fetch`, database
 * drivers and inner policies actually stop and release what they hold.
 */
import { type Clock, systemClock } from '@trellis/core';
import { TimeoutError } from './errors.js';
import type { Policy, Work } from './policy.js';
import { abortError, neverAborted } from './signal.js';
import { num } from './validate.js';

/**
 * - `aggressive` (default): reject with `TimeoutError` the moment the time is up, while the
 *   work is told to abort. The caller is free at once.
 * - `cooperative`: abort the work's signal at the deadline but wait for the work to settle;
 *   a late result is returned, a late failure becomes `TimeoutError`. Use it when whatever is
 *   outside the timeout must not move on before the work has really stopped.
 */
export type TimeoutStrategy = 'aggressive' | 'cooperative';

/** Configuration of a {@link TimeoutPolicy}. */
export interface TimeoutOptions {
  strategy?: TimeoutStrategy;
  clock?: Clock;
}

/**
 * Limits how long work may run.
 *
 * Throws `TimeoutError` when the limit passes, `AbortedError` when the caller's signal aborts
 * first; otherwise whatever the work throws.
 *
 * @example
 * ```ts
 * const twoSeconds = timeout(2000);
 * const res = await twoSeconds.execute((signal) => fetch(url, { signal }));
 * ```
 */
export class TimeoutPolicy implements Policy {
  readonly ms: number;
  readonly strategy: TimeoutStrategy;
  private readonly clock: Clock;

  /** Throws `ValidationError` when `ms` is negative or not a number. */
  constructor(ms: number, options: TimeoutOptions = {}) {
    this.ms = ms === Number.POSITIVE_INFINITY ? ms : num('ms', ms, 0);
    this.strategy = options.strategy ?? 'aggressive';
    this.clock = options.clock ?? systemClock;
  }

  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    return runLimited(fn, signal, this.ms, this.clock, this.strategy === 'cooperative', (cause) =>
      cause === undefined ? new TimeoutError(this.ms) : new TimeoutError(this.ms, undefined, { cause }),
    );
  }
}

/**
 * Runs `fn` with a signal that aborts after `ms` with the error `makeError()` builds (internal;
 * shared by timeouts and deadlines). See {@link TimeoutStrategy} for `cooperative`.
 */
export function runLimited<T>(
  fn: Work<T>,
  signal: AbortSignal | undefined,
  ms: number,
  clock: Clock,
  cooperative: boolean,
  makeError: (cause?: unknown) => Error,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  // Adding a listener to a Node AbortSignal costs microseconds: skip the signal that never
  // aborts, and use one listener for both jobs (abort the work, release the caller).
  const parent = signal === undefined || signal === neverAborted ? undefined : signal;
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let expired: Error | undefined;
    const finish = () => {
      done = true;
      if (handle !== undefined) clock.clearTimeout(handle);
      parent?.removeEventListener('abort', onCallerAbort);
    };
    const onCallerAbort = () => {
      const parentSignal = parent as AbortSignal;
      controller.abort(parentSignal.reason);
      if (cooperative || done) return;
      finish();
      reject(abortError(parentSignal));
    };
    const handle =
      ms === Number.POSITIVE_INFINITY
        ? undefined
        : clock.setTimeout(() => {
            expired = makeError();
            controller.abort(expired);
            if (cooperative) return;
            finish();
            reject(expired);
          }, ms);
    parent?.addEventListener('abort', onCallerAbort, { once: true });
    let work: PromiseLike<T> | T;
    try {
      work = fn(controller.signal);
    } catch (error) {
      finish();
      reject(error);
      return;
    }
    Promise.resolve(work).then(
      (value) => {
        if (done) return;
        finish();
        resolve(value);
      },
      (error: unknown) => {
        if (done) return;
        finish();
        if (expired) reject(expired === error ? error : makeError(error));
        else if (parent?.aborted) reject(abortError(parent));
        else reject(error);
      },
    );
  });
}

/** Creates a {@link TimeoutPolicy}. Throws `ValidationError` when `ms` is negative. */
export function timeout(ms: number, options: TimeoutOptions = {}): TimeoutPolicy {
  return new TimeoutPolicy(ms, options);
}
