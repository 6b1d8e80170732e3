import { describe, expect, it } from 'vitest';
import type { OrderRecord } from './load-driver.js';
import type { OrderOutcome } from './order-outcome.js';
import { checkHypothesis, countOutcomes, recoveredAt, windowStats } from './window-stats.js';

const rec = (startedAt: number, endedAt: number, outcome: OrderOutcome): OrderRecord => ({
  startedAt,
  endedAt,
  outcome,
  phase: 'p',
  reason: outcome,
  requests: 1,
});

describe('window statistics', () => {
  const records = [
    rec(0, 500, 'completed'),
    rec(100, 900, 'compensated'),
    rec(200, 1500, 'failed'),
    rec(300, 1900, 'completed'),
    rec(400, 2500, 'rejected'),
  ];

  it('counts what ended in the window: settled orders per second and the error rate', () => {
    const w = windowStats(records, 0, 2000);
    expect(w.ended).toBe(4);
    expect(w.ordersPerSecond).toBe(1.5);
    expect(w.errorRate).toBe(0.25);
    expect(w.outcomes).toEqual({ completed: 2, compensated: 1, failed: 1, rejected: 0 });
    expect(windowStats(records, 5000, 6000)).toMatchObject({ ended: 0, ordersPerSecond: 0, errorRate: 0 });
    expect(countOutcomes(records)).toEqual({ completed: 2, compensated: 1, failed: 1, rejected: 1 });
  });

  it('holds the hypothesis only with enough orders and few errors, saying why not', () => {
    const w = windowStats(records, 0, 2000);
    expect(checkHypothesis(w, { minOrdersPerSecond: 1, maxErrorRate: 0.3 })).toMatchObject({
      holds: true,
      why: '',
    });
    const low = checkHypothesis(w, { minOrdersPerSecond: 2, maxErrorRate: 0.3 });
    expect(low.holds).toBe(false);
    expect(low.why).toBe('1.50 orders/s < 2');
    expect(checkHypothesis(w, { minOrdersPerSecond: 1, maxErrorRate: 0.1 }).why).toBe(
      'error rate 25.0 % > 10.0 %',
    );
  });

  it('recovers at the end of the first streak of settled orders started after the fault', () => {
    const after = [
      rec(900, 1000, 'completed'), // started before the fault ended: not counted
      rec(1000, 1200, 'completed'),
      rec(1000, 1300, 'failed'), // breaks the streak
      rec(1100, 1400, 'completed'),
      rec(1100, 1600, 'compensated'),
      rec(1200, 1700, 'completed'),
    ];
    expect(recoveredAt(after, 1000, 3)).toBe(1700);
    expect(recoveredAt(after, 1000, 4)).toBeUndefined();
    expect(recoveredAt([], 0)).toBeUndefined();
  });

  it('counts only completed orders towards recovery when asked, passing over compensations', () => {
    const after = [
      rec(1000, 1100, 'compensated'), // the breaker still open: compensated fast, not recovered
      rec(1000, 1200, 'completed'),
      rec(1000, 1300, 'compensated'), // a declined card: neither counts nor breaks the streak
      rec(1100, 1400, 'completed'),
      rec(1100, 1500, 'completed'),
    ];
    expect(recoveredAt(after, 1000, 3, 'completed')).toBe(1500);
    expect(recoveredAt(after, 1000, 3)).toBe(1300);
    expect(
      recoveredAt([...after.slice(0, 2), rec(1000, 1250, 'failed'), ...after.slice(3)], 1000, 3, 'completed'),
    ).toBeUndefined();
  });
});
