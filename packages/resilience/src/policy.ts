/**
 * The one shape every resilience policy shares, so policies compose with {@link wrap}: run
 * `fn`, handing it an `AbortSignal` that fires when the caller (or an outer policy) gives up.
 */

/** The work a policy runs. It receives the signal it should pass on (to `fetch`, a driver…). */
export type Work<T> = (signal: AbortSignal) => PromiseLike<T> | T;

/**
 * A resilience policy. `R` is what the policy may return instead of the work's result (only a
 * fallback has one; for every other policy it is `never`).
 */
export interface Policy<R = never> {
  /**
   * Runs `fn` under this policy.
   *
   * @param fn the work; called with the signal to honour
   * @param signal the caller's cancellation; aborting it rejects with `AbortedError` (or with
   *   the signal's reason when that is already a Trellis error such as `TimeoutError`)
   */
  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T | R>;
}
