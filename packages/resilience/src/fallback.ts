/**
 * Fallback: when the work fails, answer with something else (a cached value, a default, a
 * degraded response) instead of the error. Usually the outermost policy.
 */
import { Listeners } from './listeners.js';
import type { Policy, Work } from './policy.js';
import { abortError, neverAborted } from './signal.js';

/** Configuration of a {@link FallbackPolicy}. */
export interface FallbackOptions {
  /** Which errors the fallback handles (default: all). Others, and caller aborts, are rethrown. */
  shouldHandle?: (error: unknown) => boolean;
}

/**
 * Runs work and, if it throws a handled error, returns `handler(error)` instead. Rethrows
 * errors it does not handle, aborts by the caller, and whatever the handler throws.
 *
 * @example
 * ```ts
 * const withDefault = fallback(() => ({ items: [], degraded: true }));
 * const page = await withDefault.execute(() => catalog.list());
 * ```
 */
export class FallbackPolicy<R> implements Policy<R> {
  private readonly handler: (error: unknown, signal: AbortSignal) => R | PromiseLike<R>;
  private readonly shouldHandle: (error: unknown) => boolean;
  private readonly listeners = new Listeners<{ error: unknown }>();

  constructor(
    handler: (error: unknown, signal: AbortSignal) => R | PromiseLike<R>,
    options: FallbackOptions = {},
  ) {
    this.handler = handler;
    this.shouldHandle = options.shouldHandle ?? (() => true);
  }

  async execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T | R> {
    const sig = signal ?? neverAborted;
    if (sig.aborted) throw abortError(sig);
    try {
      return await fn(sig);
    } catch (error) {
      if (sig.aborted || !this.shouldHandle(error)) throw error;
      if (this.listeners.active) this.listeners.emit({ error });
      return await this.handler(error, sig);
    }
  }

  /** Subscribes to fallbacks taken; returns the unsubscribe function. */
  onFallback(listener: (event: { error: unknown }) => void): () => void {
    return this.listeners.add(listener);
  }
}

/** Creates a {@link FallbackPolicy}. */
export function fallback<R>(
  handler: (error: unknown, signal: AbortSignal) => R | PromiseLike<R>,
  options: FallbackOptions = {},
): FallbackPolicy<R> {
  return new FallbackPolicy(handler, options);
}
