import { isValidationError, ManualClock, NotFoundError, type ValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerOptions } from './circuit-breaker-options.js';
import { CircuitState } from './circuit-state.js';
import { isCircuitBreakerOpenError } from './errors.js';

const boom = () => Promise.reject(new Error('boom'));
const ok = () => Promise.resolve('ok');

function setup(options: CircuitBreakerOptions = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const breaker = new CircuitBreaker({ clock, ...options });
  const transitions: string[] = [];
  breaker.onStateChange((e) => transitions.push(`${e.to}:${e.reason}`));
  return { clock, breaker, transitions };
}

/** Work that settles when the test says so. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('concurrent failures (opossum #385)', () => {
  it('six simultaneous failures open the breaker once, and it still reaches HALF_OPEN and closes', async () => {
    const { breaker, clock, transitions } = setup({ failureThreshold: 5, timeout: 1000 });
    const pending = Array.from({ length: 6 }, () => deferred<string>());
    const calls = pending.map((d) => breaker.execute(() => d.promise).catch((e: unknown) => e));
    for (const d of pending) d.reject(new Error('down'));
    await Promise.all(calls);
    expect(transitions).toEqual(['OPEN:failureThreshold']);
    expect(breaker.metrics).toMatchObject({ failures: 5, ignored: 1 });
    await clock.advance(1000);
    await breaker.execute(ok);
    expect(transitions).toEqual(['OPEN:failureThreshold', 'HALF_OPEN:timeoutElapsed', 'CLOSED:probeSuccess']);
  });

  it('a call started while CLOSED that fails during HALF_OPEN does not count as a probe', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, timeout: 1000 });
    const slow = deferred<string>();
    const lateWithSignal = deferred<string>();
    const early = breaker.execute(() => slow.promise).catch((e: unknown) => e);
    const earlySignal = breaker
      .execute(() => lateWithSignal.promise, new AbortController().signal)
      .catch((e: unknown) => e);
    await breaker.execute(boom).catch(() => undefined);
    await clock.advance(1000);
    expect(breaker.state).toBe(CircuitState.HALF_OPEN);
    slow.reject(new Error('late'));
    lateWithSignal.reject(new Error('late'));
    await early;
    await earlySignal;
    expect(breaker.state).toBe(CircuitState.HALF_OPEN);
    expect(breaker.metrics.ignored).toBe(2);
  });

  it('a probe aborted by its caller releases its slot without counting', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, timeout: 1000 });
    await breaker.execute(boom).catch(() => undefined);
    await clock.advance(1000);
    const controller = new AbortController();
    const probe = breaker
      .execute(
        (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        controller.signal,
      )
      .catch((e: unknown) => e);
    expect(isCircuitBreakerOpenError(await breaker.execute(ok).catch((e: unknown) => e))).toBe(true);
    controller.abort();
    await probe;
    expect(breaker.state).toBe(CircuitState.HALF_OPEN);
    expect(await breaker.execute(ok)).toBe('ok');
    expect(breaker.state).toBe(CircuitState.CLOSED);
  });
});

describe('isFailure and isResultFailure', () => {
  it('errors that are not failures count as successes (a 404 means the service answered)', async () => {
    const { breaker } = setup({
      failureThreshold: 2,
      isFailure: (e) => !(e instanceof NotFoundError),
    });
    for (let i = 0; i < 5; i++) {
      await expect(breaker.execute(() => Promise.reject(new NotFoundError('no such user')))).rejects.toThrow(
        'no such user',
      );
    }
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(breaker.metrics).toMatchObject({ successes: 5, failures: 0 });
  });

  it('results can be failures without an error (an HTTP 503 response)', async () => {
    const { breaker } = setup({
      failureThreshold: 2,
      isResultFailure: (r) => (r as { status: number }).status >= 500,
    });
    const res = await breaker.execute(async () => ({ status: 503 }));
    expect(res.status).toBe(503);
    await breaker.execute(async () => ({ status: 503 }));
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('handles work that throws synchronously or returns a plain value', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    expect(await breaker.execute(() => 42)).toBe(42);
    await expect(
      breaker.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(breaker.state).toBe(CircuitState.OPEN);
  });
});

describe('manual control', () => {
  it('isolate() rejects every call until reset(), even after the timeout', async () => {
    const { breaker, clock, transitions } = setup({ timeout: 1000 });
    breaker.isolate();
    await clock.advance(60_000);
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', isolated: true, retryAfterMs: 0 });
    expect(breaker.retryAfterMs).toBe(Number.POSITIVE_INFINITY);
    expect(breaker.state).toBe(CircuitState.OPEN);
    expect(breaker.isolated).toBe(true);
    breaker.reset();
    expect(await breaker.execute(ok)).toBe('ok');
    expect(transitions).toEqual(['OPEN:isolate', 'CLOSED:reset']);
  });

  it('grows the open time by timeoutMultiplier after failed probes, up to maxTimeout, and resets on close', async () => {
    const { breaker, clock } = setup({
      failureThreshold: 1,
      timeout: 1000,
      timeoutMultiplier: 2,
      maxTimeout: 3000,
    });
    const openFor: number[] = [];
    breaker.onStateChange((e) => {
      if (e.to === 'OPEN' && e.openUntil !== undefined) openFor.push(e.openUntil - e.at);
    });
    await breaker.execute(boom).catch(() => undefined);
    for (const wait of [1000, 2000, 3000]) {
      await clock.advance(wait);
      await breaker.execute(boom).catch(() => undefined);
    }
    await clock.advance(3000);
    await breaker.execute(ok);
    await breaker.execute(boom).catch(() => undefined);
    expect(openFor).toEqual([1000, 2000, 3000, 3000, 1000]);
  });

  it('dispose() clears listeners and pending probe timers', async () => {
    const { breaker, clock, transitions } = setup({ failureThreshold: 1, timeout: 1000, probeTimeout: 5000 });
    await breaker.execute(boom).catch(() => undefined);
    await clock.advance(1000);
    void breaker.execute(() => new Promise(() => undefined)).catch(() => undefined);
    await clock.advance(0);
    expect(clock.pendingTimers()).toBe(1);
    const before = transitions.length;
    breaker.dispose();
    expect(clock.pendingTimers()).toBe(0);
    breaker.reset();
    expect(transitions.length).toBe(before);
  });
});

describe('save and restore', () => {
  it('an OPEN breaker restored elsewhere stays open until the saved openUntil', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, timeout: 10_000 });
    await breaker.execute(boom).catch(() => undefined);
    await clock.advance(4000);
    const saved = JSON.parse(JSON.stringify(breaker.snapshot()));
    const other = new CircuitBreaker({ clock, failureThreshold: 1, timeout: 10_000 });
    const seen: string[] = [];
    other.onStateChange((e) => seen.push(`${e.from}>${e.to}:${e.reason}`));
    other.restore(saved);
    expect(seen).toEqual(['CLOSED>OPEN:restore']);
    expect(await other.execute(ok).catch((e: unknown) => e)).toMatchObject({ retryAfterMs: 6000 });
    await clock.advance(6000);
    expect(other.state).toBe(CircuitState.HALF_OPEN);
  });

  it('restores the sliding window of a CLOSED breaker', async () => {
    const opts = { window: { type: 'count' as const, size: 10 }, failureRateThreshold: 0.5, minimumCalls: 4 };
    const { breaker, clock } = setup(opts);
    for (const f of [boom, ok, boom]) await breaker.execute(f).catch(() => undefined);
    const other = new CircuitBreaker({ clock, ...opts });
    other.restore(breaker.snapshot());
    expect(other.metrics.window).toMatchObject({ calls: 3, failures: 2 });
    await other.execute(ok);
    expect(other.state).toBe(CircuitState.OPEN); // 2 of 4
  });

  it('restores an isolated breaker as isolated, and a time window too', async () => {
    const opts = { window: { type: 'time' as const, durationMs: 10_000 }, failureRateThreshold: 0.5 };
    const { breaker, clock } = setup(opts);
    await breaker.execute(boom).catch(() => undefined);
    const other = new CircuitBreaker({ clock, ...opts });
    other.restore(breaker.snapshot());
    expect(other.metrics.window).toMatchObject({ calls: 1, failures: 1 });
    breaker.isolate();
    other.restore(breaker.snapshot());
    expect(other.isolated).toBe(true);
    await clock.advance(1e9);
    expect(other.state).toBe(CircuitState.OPEN);
  });

  it('rejects a malformed snapshot with a ValidationError naming the field, changing nothing', () => {
    const { breaker } = setup();
    const good = breaker.snapshot();
    for (const [bad, field] of [
      [null, ''],
      [{ ...good, version: 2 }, 'version'],
      [{ ...good, state: 'AJAR' }, 'state'],
      [{ ...good, currentTimeout: 'soon' }, 'currentTimeout'],
      [{ ...good, window: { type: 'count', data: [1, -1] } }, 'window.data.1'],
    ] as const) {
      const error = (() => {
        try {
          breaker.restore(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(isValidationError(error)).toBe(true);
      expect((error as ValidationError).issues[0]?.path).toBe(field);
    }
    expect(breaker.state).toBe(CircuitState.CLOSED);
  });
});

describe('options', () => {
  it.each([
    [{ failureThreshold: 0 }, 'failureThreshold'],
    [{ successThreshold: 1.5 }, 'successThreshold'],
    [{ timeout: -1 }, 'timeout'],
    [{ failureRateThreshold: 1.5 }, 'failureRateThreshold'],
    [{ slowCallRateThreshold: 0.5 }, 'slowCallDurationThreshold'],
    [{ failureRateThreshold: 0.5, window: { type: 'count', size: 0 } }, 'window.size'],
    [{ failureRateThreshold: 0.5, window: { type: 'time', durationMs: 0 } }, 'window.durationMs'],
    [{ halfOpenMaxProbes: 0 }, 'halfOpenMaxProbes'],
    [{ probeTimeout: 0 }, 'probeTimeout'],
    [{ timeoutMultiplier: 0.5 }, 'timeoutMultiplier'],
  ] as Array<[CircuitBreakerOptions, string]>)('rejects %j naming %s', (options, field) => {
    const error = (() => {
      try {
        new CircuitBreaker(options);
      } catch (e) {
        return e;
      }
    })();
    expect(isValidationError(error)).toBe(true);
    expect((error as ValidationError).issues[0]?.path).toBe(field);
  });
});
