/**
 * Save/restore format of a circuit breaker. Plain JSON so it can be written to a file, a
 * database row or a key-value store and loaded by another process after a restart. Loading
 * checks the shape by hand (this package has no runtime dependencies) and reports the first
 * bad field as a `ValidationError`.
 */
import { ValidationError } from '@trellis/core';
import { CircuitState } from './circuit-state.js';
import type { WindowSnapshot } from './sliding-window.js';

/** A breaker's saved state (version 1). Times are clock milliseconds. */
export interface BreakerSnapshot {
  version: 1;
  name: string;
  state: CircuitState;
  isolated: boolean;
  /** When an OPEN breaker admits probes; `null` unless OPEN and not isolated. */
  openUntil: number | null;
  /** Open time in effect (grows with `timeoutMultiplier`). */
  currentTimeout: number;
  consecutiveFailures: number;
  /** Sliding-window content, `null` when the breaker has no window. */
  window: WindowSnapshot | null;
  savedAt: number;
}

function bad(path: string, message: string): never {
  throw new ValidationError(`Invalid breaker snapshot at "${path}": ${message}`, [{ path, message }]);
}

function finite(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(path, 'expected a finite number');
  return v;
}

/** Checks that `value` is a {@link BreakerSnapshot}; throws `ValidationError` otherwise. */
export function readSnapshot(value: unknown): BreakerSnapshot {
  if (typeof value !== 'object' || value === null) bad('', 'expected an object');
  const s = value as Record<string, unknown>;
  if (s.version !== 1) bad('version', 'expected 1');
  const states: unknown[] = Object.values(CircuitState);
  if (!states.includes(s.state)) bad('state', `expected one of ${states.join(', ')}`);
  if (typeof s.isolated !== 'boolean') bad('isolated', 'expected a boolean');
  if (s.openUntil !== null) finite(s.openUntil, 'openUntil');
  const currentTimeout = finite(s.currentTimeout, 'currentTimeout');
  const consecutiveFailures = finite(s.consecutiveFailures, 'consecutiveFailures');
  let window: WindowSnapshot | null = null;
  if (s.window !== null && s.window !== undefined) {
    const w = s.window as Record<string, unknown>;
    if (w.type !== 'count' && w.type !== 'time') bad('window.type', "expected 'count' or 'time'");
    if (!Array.isArray(w.data)) bad('window.data', 'expected an array of numbers');
    const data = w.data as unknown[];
    data.forEach((d, i) => {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
        bad(`window.data.${i}`, 'expected an integer >= 0');
    });
    window = { type: w.type, data: data as number[] };
  }
  return {
    version: 1,
    name: typeof s.name === 'string' ? s.name : '',
    state: s.state as CircuitState,
    isolated: s.isolated as boolean,
    openUntil: (s.openUntil as number | null) ?? null,
    currentTimeout,
    consecutiveFailures,
    window,
    savedAt: typeof s.savedAt === 'number' ? s.savedAt : 0,
  };
}
