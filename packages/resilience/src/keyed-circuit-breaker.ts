/**
 * One circuit breaker per key (per upstream, per endpoint, per tenant) with bounded memory:
 * at most `maxKeys` breakers, least recently used evicted first, breakers idle for `idleMs`
 * dropped, and every dropped breaker disposed (listeners and timers released). Pools of
 * breakers that are never destroyed are how opossum users leak memory (#248, #648).
 */
import { type Clock, isValidationError, systemClock, ValidationError } from '@trellis/core';
import { BoundedMap } from './bounded-map.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { StateChangeEvent } from './circuit-breaker-events.js';
import type { CircuitBreakerOptions } from './circuit-breaker-options.js';
import type { BreakerSnapshot } from './circuit-breaker-snapshot.js';
import { CircuitState } from './circuit-state.js';
import { fastNow } from './fast-clock.js';
import { Listeners } from './listeners.js';
import type { Work } from './policy.js';
import { int, num } from './validate.js';

/** Configuration of a {@link KeyedCircuitBreaker}. */
export interface KeyedCircuitBreakerOptions extends Omit<CircuitBreakerOptions, 'name'> {
  /** Most breakers kept at once. Default 1000. */
  maxKeys?: number;
  /**
   * A breaker unused for this long is dropped, whatever its state; the key's next call gets a
   * new, CLOSED one. Keep it well above the open `timeout`. Default 10 minutes.
   */
  idleMs?: number;
  /** Per-key overrides (e.g. a stricter threshold for one upstream). */
  optionsFor?: (key: string) => Omit<CircuitBreakerOptions, 'name' | 'clock'> | undefined;
}

/** A state change of one keyed breaker. */
export interface KeyedStateChangeEvent extends StateChangeEvent {
  key: string;
}

/**
 * Breakers by key, created on first use with the shared options.
 *
 * @example
 * ```ts
 * const upstreams = new KeyedCircuitBreaker({ failureRateThreshold: 0.5, window: { type: 'time', durationMs: 10_000 } });
 * await upstreams.execute('inventory', (signal) => fetch(inventoryUrl, { signal }));
 * ```
 */
export class KeyedCircuitBreaker {
  readonly maxKeys: number;
  private readonly options: KeyedCircuitBreakerOptions;
  private readonly clock: Clock;
  private readonly breakers: BoundedMap<CircuitBreaker>;
  private readonly listeners = new Listeners<KeyedStateChangeEvent>();
  private readonly create = (key: string): CircuitBreaker => {
    const { maxKeys: _m, idleMs: _i, optionsFor, ...shared } = this.options;
    const breaker = new CircuitBreaker({ ...shared, ...optionsFor?.(key), clock: this.clock, name: key });
    breaker.onStateChange((event) => {
      if (this.listeners.active) this.listeners.emit({ ...event, key });
    });
    return breaker;
  };

  /** Throws `ValidationError` when an option is out of range (checked now, not on first use). */
  constructor(options: KeyedCircuitBreakerOptions = {}) {
    this.options = options;
    this.maxKeys = int('maxKeys', options.maxKeys ?? 1000, 1);
    const idleMs = num('idleMs', options.idleMs ?? 600_000, 1);
    this.clock = options.clock ?? systemClock;
    this.breakers = new BoundedMap(this.maxKeys, idleMs, fastNow(this.clock), (_key, breaker) =>
      breaker.dispose(),
    );
    // Build one throwaway breaker so bad shared options fail here, not on the first call.
    const { maxKeys: _m, idleMs: _i, optionsFor: _o, ...shared } = options;
    new CircuitBreaker({ ...shared, clock: this.clock }).dispose();
  }

  /** The breaker for `key`, created when absent. */
  get(key: string): CircuitBreaker {
    return this.breakers.getOrCreate(key, this.create);
  }

  /** Runs `fn` through `key`'s breaker (see `CircuitBreaker.execute` for what it throws). */
  execute<T>(key: string, fn: Work<T>, signal?: AbortSignal): Promise<T> {
    return this.breakers.getOrCreate(key, this.create).execute(fn, signal);
  }

  /** State of `key`'s breaker; CLOSED when none exists (a new one would be closed). */
  stateOf(key: string): CircuitState {
    return this.breakers.peek(key)?.state ?? CircuitState.CLOSED;
  }

  /** Breakers currently kept. */
  get size(): number {
    return this.breakers.size;
  }

  /** Every kept breaker by key (e.g. for a metrics endpoint). */
  entries(): Array<[string, CircuitBreaker]> {
    return this.breakers.entries();
  }

  /** Subscribes to state changes of every breaker; returns the unsubscribe function. */
  onStateChange(listener: (event: KeyedStateChangeEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Every kept breaker's state by key (JSON-safe), for {@link restore} after a restart. */
  snapshot(): Record<string, BreakerSnapshot> {
    const out: Record<string, BreakerSnapshot> = {};
    for (const [key, breaker] of this.breakers.entries()) out[key] = breaker.snapshot();
    return out;
  }

  /**
   * Recreates breakers from {@link snapshot} (up to `maxKeys`). Throws `ValidationError`,
   * naming the key, when an entry is malformed; entries before it are already restored.
   */
  restore(snapshot: Record<string, unknown>): void {
    for (const [key, saved] of Object.entries(snapshot)) {
      try {
        this.get(key).restore(saved);
      } catch (error) {
        if (!isValidationError(error)) throw error;
        throw new ValidationError(
          `Invalid breaker snapshot for "${key}": ${error.message}`,
          error.issues.map((i) => ({ path: i.path ? `${key}.${i.path}` : key, message: i.message })),
        );
      }
    }
  }

  /** Drops and disposes `key`'s breaker; true when there was one. */
  delete(key: string): boolean {
    return this.breakers.delete(key);
  }

  /** Drops and disposes every breaker and every listener. */
  dispose(): void {
    this.breakers.clear();
    this.listeners.clear();
  }
}
