import { ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerOptions } from './circuit-breaker-options.js';
import { CircuitState } from './circuit-state.js';

const boom = () => Promise.reject(new Error('boom'));
const ok = () => Promise.resolve('ok');

function setup(options: CircuitBreakerOptions) {
  const clock = new ManualClock(1_700_000_000_000);
  const breaker = new CircuitBreaker({ clock, ...options });
  const transitions: string[] = [];
  breaker.onStateChange((e) => transitions.push(`${e.to}:${e.reason}`));
  return { clock, breaker, transitions };
}

async function run(breaker: CircuitBreaker, pattern: string) {
  for (const c of pattern) await breaker.execute(c === 'x' ? boom : ok).catch(() => undefined);
}

describe('count-based window', () => {
  it('trips on the failure rate once minimumCalls is reached, not before', async () => {
    const { breaker } = setup({
      window: { type: 'count', size: 10 },
      failureRateThreshold: 0.5,
      minimumCalls: 6,
    });
    await run(breaker, 'xxxxx'); // 5 failures, below minimumCalls
    expect(breaker.state).toBe(CircuitState.CLOSED);
    await run(breaker, '.'); // 6 calls, 5/6 failed
    expect(breaker.state).toBe(CircuitState.OPEN);
    expect(breaker.metrics.failures).toBe(5);
  });

  it('forgets outcomes that slide out of the last N calls', async () => {
    const { breaker } = setup({
      window: { type: 'count', size: 4 },
      failureRateThreshold: 0.75,
      minimumCalls: 4,
    });
    await run(breaker, 'xx..'); // 50 %
    await run(breaker, '..x.'); // window: . . x . = 25 %
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(breaker.metrics.window).toMatchObject({ calls: 4, failures: 1 });
    await run(breaker, 'xx'); // window: x . x x = 75 %
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('low traffic: one failure among few calls does not trip a rate breaker', async () => {
    const { breaker } = setup({ failureRateThreshold: 0.5 }); // count 100, minimumCalls 10
    await run(breaker, 'x');
    await run(breaker, 'x.x');
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(breaker.metrics.window.failureRate).toBeCloseTo(0.75);
  });

  it('starts a fresh window after closing: failures from before the outage do not re-trip it', async () => {
    const { breaker, clock, transitions } = setup({
      window: { type: 'count', size: 10 },
      failureRateThreshold: 0.5,
      minimumCalls: 2,
      timeout: 1000,
    });
    await run(breaker, 'xx');
    await clock.advance(1000);
    await run(breaker, '.'); // probe closes it
    await run(breaker, '..x');
    expect(transitions).toEqual(['OPEN:failureRate', 'HALF_OPEN:timeoutElapsed', 'CLOSED:probeSuccess']);
    expect(breaker.metrics.window).toMatchObject({ calls: 3, failures: 1 });
  });

  it('combines the consecutive threshold with the rate: whichever is reached first', async () => {
    const { breaker, transitions } = setup({
      failureThreshold: 3,
      failureRateThreshold: 0.9,
      window: { type: 'count', size: 20 },
      minimumCalls: 20,
    });
    await run(breaker, '....xxx');
    expect(transitions).toEqual(['OPEN:failureThreshold']);
  });
});

describe('time-based window', () => {
  const window = { type: 'time' as const, durationMs: 10_000, buckets: 10 };

  it('trips on the failure rate over the last durationMs', async () => {
    const { breaker, clock } = setup({ window, failureRateThreshold: 0.5, minimumCalls: 4 });
    await run(breaker, 'x..');
    await clock.advance(3000);
    expect(breaker.state).toBe(CircuitState.CLOSED);
    await run(breaker, 'x');
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('a quiet period longer than the window forgets old failures (cockatiel #64)', async () => {
    const { breaker, clock } = setup({ window, failureRateThreshold: 0.5, minimumCalls: 5 });
    await run(breaker, 'xxxx');
    await clock.advance(5 * 60_000);
    await run(breaker, 'xx');
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(breaker.metrics.window).toMatchObject({ calls: 2, failures: 2 });
  });

  it('expires bucket by bucket as time moves', async () => {
    const { breaker, clock } = setup({ window, failureRateThreshold: 1, minimumCalls: 100 });
    await run(breaker, 'xx'); // t=0
    await clock.advance(4000);
    await run(breaker, '...'); // t=4s
    await clock.advance(6500); // t=10.5s: the t=0 bucket slid out
    expect(breaker.metrics.window).toMatchObject({ calls: 3, failures: 0 });
    await clock.advance(4000); // t=14.5s: everything slid out
    expect(breaker.metrics.window.calls).toBe(0);
  });

  it('reaches HALF_OPEN after the timeout and closes on probes (cockatiel #91)', async () => {
    const { breaker, clock, transitions } = setup({
      window,
      failureRateThreshold: 0.01,
      minimumCalls: 1,
      timeout: 10_000,
      successThreshold: 2,
    });
    await run(breaker, 'x');
    expect(breaker.state).toBe(CircuitState.OPEN);
    await clock.advance(10_000);
    await run(breaker, '..');
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(transitions).toEqual(['OPEN:failureRate', 'HALF_OPEN:timeoutElapsed', 'CLOSED:probeSuccess']);
    // The window starts empty after closing: one old failure cannot re-trip it.
    expect(breaker.metrics.window.calls).toBe(0);
  });
});

describe('slow calls', () => {
  const slowCall = (clock: ManualClock, ms: number) => () =>
    new Promise<string>((resolve) => clock.setTimeout(() => resolve('late'), ms));

  it('trips on the slow-call rate although every call succeeds', async () => {
    const { breaker, clock, transitions } = setup({
      window: { type: 'count', size: 4 },
      minimumCalls: 4,
      slowCallDurationThreshold: 1000,
      slowCallRateThreshold: 0.5,
    });
    for (const ms of [10, 1500, 20, 2000]) {
      const p = breaker.execute(slowCall(clock, ms));
      await clock.advance(ms);
      expect(await p).toBe('late');
    }
    expect(transitions).toEqual(['OPEN:slowCallRate']);
    expect(breaker.metrics.slowCalls).toBe(2);
  });

  it('a slow probe re-opens a breaker that trips on slow calls', async () => {
    const { breaker, clock } = setup({
      failureThreshold: 1,
      timeout: 1000,
      slowCallDurationThreshold: 500,
      slowCallRateThreshold: 1,
      window: { type: 'count', size: 10 },
      minimumCalls: 10,
    });
    await run(breaker, 'x');
    await clock.advance(1000);
    const p = breaker.execute(slowCall(clock, 600));
    await clock.advance(600);
    await p;
    expect(breaker.state).toBe(CircuitState.OPEN);
  });
});
