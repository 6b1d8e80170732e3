import { isValidationError, ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { CircuitState } from './circuit-state.js';
import { isCircuitBreakerOpenError } from './errors.js';
import { KeyedCircuitBreaker } from './keyed-circuit-breaker.js';

const boom = () => Promise.reject(new Error('down'));
const ok = async () => 'ok';

describe('KeyedCircuitBreaker', () => {
  it('keeps an independent breaker per key, named after it', async () => {
    const clock = new ManualClock();
    const pool = new KeyedCircuitBreaker({ failureThreshold: 2, clock });
    const events: string[] = [];
    pool.onStateChange((e) => events.push(`${e.key}:${e.to}:${e.breaker}`));
    await pool.execute('inventory', boom).catch(() => undefined);
    await pool.execute('inventory', boom).catch(() => undefined);
    expect(pool.stateOf('inventory')).toBe(CircuitState.OPEN);
    expect(isCircuitBreakerOpenError(await pool.execute('inventory', ok).catch((e: unknown) => e))).toBe(
      true,
    );
    expect(await pool.execute('payments', ok)).toBe('ok');
    expect(pool.stateOf('never-used')).toBe(CircuitState.CLOSED);
    expect(events).toEqual(['inventory:OPEN:inventory']);
    expect(pool.get('inventory').name).toBe('inventory');
  });

  it('applies per-key overrides', async () => {
    const pool = new KeyedCircuitBreaker({
      failureThreshold: 5,
      clock: new ManualClock(),
      optionsFor: (key) => (key === 'fragile' ? { failureThreshold: 1 } : undefined),
    });
    await pool.execute('fragile', boom).catch(() => undefined);
    await pool.execute('sturdy', boom).catch(() => undefined);
    expect([pool.stateOf('fragile'), pool.stateOf('sturdy')]).toEqual(['OPEN', 'CLOSED']);
  });

  it('bounds memory: at most maxKeys breakers, evicted ones disposed (no timers left)', async () => {
    const clock = new ManualClock();
    const pool = new KeyedCircuitBreaker({
      failureThreshold: 1,
      timeout: 10,
      probeTimeout: 1000,
      maxKeys: 10,
      clock,
    });
    for (let i = 0; i < 100; i++) {
      const key = `endpoint-${i}`;
      await pool.execute(key, boom).catch(() => undefined);
      await clock.advance(10);
      void pool.execute(key, () => new Promise(() => undefined)).catch(() => undefined); // hung probe
      await clock.advance(0);
      expect(pool.size).toBeLessThanOrEqual(10);
    }
    expect(clock.pendingTimers()).toBe(10); // one probe timer per live breaker, none for evicted ones
    pool.dispose();
    expect(pool.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('drops breakers idle for idleMs (a new one starts closed)', async () => {
    const clock = new ManualClock();
    const pool = new KeyedCircuitBreaker({ failureThreshold: 1, timeout: 1e9, idleMs: 60_000, clock });
    await pool.execute('old', boom).catch(() => undefined);
    expect(pool.stateOf('old')).toBe(CircuitState.OPEN);
    await clock.advance(60_000);
    expect(await pool.execute('old', ok)).toBe('ok');
  });

  it('validates shared options at construction', () => {
    const error = (() => {
      try {
        new KeyedCircuitBreaker({ failureThreshold: -1 });
      } catch (e) {
        return e;
      }
    })();
    expect(isValidationError(error)).toBe(true);
    expect(() => new KeyedCircuitBreaker({ maxKeys: 0 })).toThrow(/maxKeys/);
  });

  it('saves and restores every breaker by key', async () => {
    const clock = new ManualClock();
    const pool = new KeyedCircuitBreaker({ failureThreshold: 1, timeout: 10_000, clock });
    await pool.execute('down', boom).catch(() => undefined);
    await pool.execute('up', ok);
    const saved = JSON.parse(JSON.stringify(pool.snapshot()));
    const restarted = new KeyedCircuitBreaker({ failureThreshold: 1, timeout: 10_000, clock });
    restarted.restore(saved);
    expect([restarted.stateOf('down'), restarted.stateOf('up')]).toEqual(['OPEN', 'CLOSED']);
    const error = (() => {
      try {
        restarted.restore({ bad: { version: 1, state: 'NOPE' } });
      } catch (e) {
        return e;
      }
    })();
    expect(isValidationError(error)).toBe(true);
    expect((error as { issues: Array<{ path: string }> }).issues[0]?.path).toBe('bad.state');
  });
});
