import { isAbortedError, ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerOptions } from './circuit-breaker-options.js';
import { CircuitState } from './circuit-state.js';
import { isCircuitBreakerOpenError, isTimeoutError } from './errors.js';

const boom = () => Promise.reject(new Error('boom'));
const ok = () => Promise.resolve('ok');

function setup(options: CircuitBreakerOptions = {}) {
  const clock = new ManualClock(1_000_000);
  const breaker = new CircuitBreaker({ clock, ...options });
  const transitions: string[] = [];
  breaker.onStateChange((e) => transitions.push(`${e.from}>${e.to}:${e.reason}`));
  return { clock, breaker, transitions };
}

async function fail(breaker: CircuitBreaker, times = 1) {
  for (let i = 0; i < times; i++) await breaker.execute(boom).catch(() => undefined);
}

describe('CircuitBreaker — seed semantics', () => {
  it('opens after failureThreshold consecutive failures, and a success resets the count', async () => {
    const { breaker } = setup({ failureThreshold: 3 });
    await fail(breaker, 2);
    await breaker.execute(ok);
    await fail(breaker, 2);
    expect(breaker.state).toBe(CircuitState.CLOSED);
    await fail(breaker, 1);
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('rejects fast while open without calling the work, with retryAfterMs', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, timeout: 5000 });
    await fail(breaker);
    await clock.advance(2000);
    let called = false;
    const error = await breaker
      .execute(() => {
        called = true;
        return ok();
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(isCircuitBreakerOpenError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', status: 503, state: 'OPEN', retryAfterMs: 3000 });
    expect(breaker.metrics.rejections).toBe(1);
  });

  it('goes OPEN → HALF_OPEN after timeout and closes after successThreshold probes', async () => {
    const { breaker, clock, transitions } = setup({
      failureThreshold: 2,
      successThreshold: 2,
      timeout: 1000,
    });
    await fail(breaker, 2);
    await clock.advance(999);
    expect(breaker.state).toBe(CircuitState.OPEN);
    expect(breaker.retryAfterMs).toBe(1);
    await clock.advance(1);
    expect(breaker.retryAfterMs).toBe(0);
    expect(breaker.state).toBe(CircuitState.HALF_OPEN);
    await breaker.execute(ok);
    expect(breaker.state).toBe(CircuitState.HALF_OPEN);
    await breaker.execute(ok);
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(transitions).toEqual([
      'CLOSED>OPEN:failureThreshold',
      'OPEN>HALF_OPEN:timeoutElapsed',
      'HALF_OPEN>CLOSED:probeSuccess',
    ]);
  });

  it('re-opens on a failed probe', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, timeout: 1000 });
    await fail(breaker);
    await clock.advance(1000);
    await fail(breaker);
    expect(breaker.state).toBe(CircuitState.OPEN);
  });
});

describe('CircuitBreaker — half-open probes', () => {
  it('admits only halfOpenMaxProbes concurrent probes and rejects the rest (no thundering herd)', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, timeout: 1000, halfOpenMaxProbes: 2 });
    await fail(breaker);
    await clock.advance(1000);
    let started = 0;
    const release: Array<() => void> = [];
    const slow = () =>
      new Promise<string>((resolve) => {
        started++;
        release.push(() => resolve('ok'));
      });
    const calls = Array.from({ length: 10 }, () => breaker.execute(slow).catch((e: unknown) => e));
    await clock.advance(0);
    expect(started).toBe(2);
    for (const r of release) r();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'ok')).toHaveLength(2);
    expect(results.filter((r) => isCircuitBreakerOpenError(r) && r.state === 'HALF_OPEN')).toHaveLength(8);
    expect(breaker.state).toBe(CircuitState.CLOSED);
  });

  it('a hung probe times out: caller gets TimeoutError, the probe is aborted, the breaker re-opens', async () => {
    const { breaker, clock, transitions } = setup({ failureThreshold: 1, timeout: 1000, probeTimeout: 500 });
    await fail(breaker);
    await clock.advance(1000);
    let aborted = false;
    const hung = breaker.execute(
      (signal) =>
        new Promise<string>(() => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
        }),
    );
    const caught = hung.catch((e: unknown) => e);
    await clock.advance(500);
    expect(isTimeoutError(await caught)).toBe(true);
    expect(aborted).toBe(true);
    expect(breaker.state).toBe(CircuitState.OPEN);
    expect(transitions.at(-1)).toBe('HALF_OPEN>OPEN:probeTimeout');
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('CircuitBreaker — abort', () => {
  it('does not count a call the caller aborted', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const controller = new AbortController();
    const p = breaker.execute(
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      controller.signal,
    );
    controller.abort();
    await expect(p).rejects.toBeDefined();
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(breaker.metrics.ignored).toBe(1);
    const again = await breaker.execute(ok, controller.signal).catch((e: unknown) => e);
    expect(isAbortedError(again)).toBe(true);
  });
});
