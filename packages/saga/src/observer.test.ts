import { describe, expect, it } from 'vitest';
import { combineObservers, notify, SagaCounters, type SagaObserver } from './observer.js';

const base = { saga: 'order', sagaId: 's1', trace: {} };

describe('observers', () => {
  it('an observer that throws never breaks the caller', () => {
    const bad: SagaObserver = {
      sagaStarted: () => {
        throw new Error('metrics backend down');
      },
    };
    expect(() => notify(bad, 'sagaStarted', base)).not.toThrow();
    expect(() => notify(undefined, 'sagaStarted', base)).not.toThrow();
  });

  it('combineObservers fans every event out, even past a throwing observer', () => {
    const a = new SagaCounters();
    const b = new SagaCounters();
    const both = combineObservers(
      a,
      {
        sagaFailed: () => {
          throw new Error('x');
        },
      },
      b,
    );
    notify(both, 'sagaStarted', base);
    notify(both, 'sagaFailed', { ...base, step: 'refund', error: new Error('down') });
    notify(both, 'stepFinished', {
      ...base,
      step: 'pay',
      phase: 'execute',
      outcome: 'error',
      attempts: 3,
      durationMs: 40,
    });
    notify(both, 'stepFinished', {
      ...base,
      step: 'pay',
      phase: 'execute',
      outcome: 'ok',
      attempts: 1,
      durationMs: 10,
    });
    for (const c of [a, b]) {
      expect(c.started.get('order')).toBe(1);
      expect(c.failed.get('order')).toBe(1);
      expect(c.steps.get('order/pay/execute')).toEqual({ count: 2, totalMs: 50, maxMs: 40, errors: 1 });
    }
  });
});
