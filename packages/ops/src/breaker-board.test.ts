import { ManualClock } from '@trellis/core';
import { CircuitBreaker } from '@trellis/resilience';
import { ServiceMetrics } from '@trellis/service';
import { describe, expect, it } from 'vitest';
import { BreakerBoard } from './breaker-board.js';
import { parseExposition } from './exposition.js';

const fail = () => Promise.reject(new Error('card processor down'));
const ok = () => Promise.resolve('ok');

function setup(keep?: number) {
  const clock = new ManualClock(1_000);
  const board = new BreakerBoard({ clock, ...(keep ? { keep } : {}) });
  const breaker = new CircuitBreaker({ name: 'card-processor', failureThreshold: 2, timeout: 5_000, clock });
  return { clock, board, breaker };
}

describe('BreakerBoard', () => {
  it('lists a breaker with its state, counts and transitions as they happen', async () => {
    const { clock, board, breaker } = setup();
    board.track(breaker);
    expect(board.list()).toEqual([
      {
        name: 'card-processor',
        state: 'CLOSED',
        since: undefined,
        successes: 0,
        failures: 0,
        rejections: 0,
        transitions: [],
      },
    ]);

    await breaker.execute(ok);
    await clock.advance(500);
    for (let i = 0; i < 2; i++) await breaker.execute(fail).catch(() => undefined);
    await breaker.execute(ok).catch(() => undefined); // rejected: open
    expect(board.list()[0]).toMatchObject({
      state: 'OPEN',
      since: 1_500,
      successes: 1,
      failures: 2,
      rejections: 1,
      transitions: [{ from: 'CLOSED', to: 'OPEN', reason: 'failureThreshold', at: 1_500 }],
    });

    await clock.advance(5_000);
    await breaker.execute(ok); // the probe succeeds
    expect(board.list()[0]?.state).toBe('CLOSED');
    expect(board.list()[0]?.transitions.map((t) => `${t.from}>${t.to}:${t.reason}@${t.at}`)).toEqual([
      'CLOSED>OPEN:failureThreshold@1500',
      'OPEN>HALF_OPEN:timeoutElapsed@6500',
      'HALF_OPEN>CLOSED:probeSuccess@6500',
    ]);
  });

  it('keeps only the newest transitions of a flapping breaker', async () => {
    const { clock, board, breaker } = setup(3);
    board.track(breaker);
    for (let i = 0; i < 4; i++) {
      breaker.isolate();
      breaker.reset();
    }
    await clock.advance(1);
    const { transitions } = board.list()[0] as { transitions: Array<{ reason: string }> };
    expect(transitions.map((t) => t.reason)).toEqual(['reset', 'isolate', 'reset']);
  });

  it('puts breakers tracked through the metrics on the board, and takes them off again', async () => {
    const { board, breaker } = setup();
    const metrics = board.watch(new ServiceMetrics({ serviceName: 'payments', defaultMetrics: false }));
    const untrack = metrics.trackBreaker(breaker, 'card-processor');
    const other = new CircuitBreaker({ name: 'shipping' });
    metrics.trackBreaker(other);
    expect(board.list().map((b) => b.name)).toEqual(['card-processor', 'shipping']);
    const states = async () =>
      parseExposition(await metrics.registry.metrics())
        .filter((s) => s.name === 'trellis_circuit_breaker_state' && s.value === 1)
        .map((s) => s.labels.breaker);
    expect(await states()).toEqual(['card-processor', 'shipping']);

    untrack();
    expect(board.list().map((b) => b.name)).toEqual(['shipping']);
    expect(await states()).toEqual(['shipping']);
  });

  it('replaces a breaker of the same name and stops listening to the old one', async () => {
    const { clock, board, breaker } = setup();
    const removeOld = board.track(breaker);
    const replacement = new CircuitBreaker({ name: 'card-processor', clock });
    board.track(replacement);
    breaker.isolate(); // the old breaker's transitions no longer reach the board
    expect(board.list()).toHaveLength(1);
    expect(board.list()[0]).toMatchObject({ state: 'CLOSED', transitions: [] });
    removeOld(); // does not remove the replacement
    expect(board.list().map((b) => b.name)).toEqual(['card-processor']);
    replacement.isolate();
    await clock.advance(1);
    expect(board.list()[0]?.transitions).toHaveLength(1);
  });

  it('lists a breaker that only offers a name, a state and counts', () => {
    const board = new BreakerBoard();
    board.track({
      name: 'legacy',
      state: 'HALF_OPEN',
      metrics: { successes: 3, failures: 1, rejections: 0 },
    });
    board.track({ name: 'bare', state: 'CLOSED' });
    expect(board.list().map((b) => [b.name, b.state, b.successes, b.failures, b.transitions.length])).toEqual(
      [
        ['bare', 'CLOSED', 0, 0, 0],
        ['legacy', 'HALF_OPEN', 3, 1, 0],
      ],
    );
  });

  it('stops listening to every breaker on close', () => {
    const { board, breaker } = setup();
    board.track(breaker);
    board.close();
    expect(board.list()).toEqual([]);
    breaker.isolate();
    board.track(new CircuitBreaker({ name: 'after-close' }));
    expect(board.list().map((b) => b.transitions.length)).toEqual([0]);
  });
});
