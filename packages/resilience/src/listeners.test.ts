import { ManualClock } from '@trellis/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import { Listeners } from './listeners.js';

describe('Listeners', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('calls listeners in order; unsubscribing is idempotent and safe during emit', () => {
    const l = new Listeners<number>();
    const seen: string[] = [];
    const offA = l.add((n) => {
      seen.push(`a${n}`);
      offA(); // unsubscribing while emitting does not skip the others
    });
    l.add((n) => seen.push(`b${n}`));
    expect(l.active).toBe(true);
    l.emit(1);
    l.emit(2);
    offA();
    expect(seen).toEqual(['a1', 'b1', 'b2']);
    l.clear();
    expect(l.active).toBe(false);
  });

  it('a throwing listener neither breaks the policy nor silences the others: the error is rethrown asynchronously', async () => {
    const rethrown: Array<() => void> = [];
    vi.stubGlobal('queueMicrotask', (fn: () => void) => rethrown.push(fn));
    const breaker = new CircuitBreaker({ failureThreshold: 1, clock: new ManualClock() });
    const seen: string[] = [];
    breaker.onStateChange(() => {
      throw new Error('buggy metrics listener');
    });
    breaker.onStateChange((e) => seen.push(e.to));
    const error = await breaker.execute(() => Promise.reject(new Error('down'))).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'down' }); // the caller sees its own error
    expect(breaker.state).toBe('OPEN');
    expect(seen).toEqual(['OPEN']);
    expect(rethrown).toHaveLength(1);
    expect(() => rethrown[0]?.()).toThrow('buggy metrics listener');
  });
});
