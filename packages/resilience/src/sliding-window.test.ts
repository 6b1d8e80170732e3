import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountWindow, OUTCOME_CALL, OUTCOME_FAILURE, OUTCOME_SLOW, TimeWindow } from './sliding-window.js';

const outcome = fc.constantFrom(
  OUTCOME_CALL,
  OUTCOME_CALL | OUTCOME_FAILURE,
  OUTCOME_CALL | OUTCOME_SLOW,
  OUTCOME_CALL | OUTCOME_FAILURE | OUTCOME_SLOW,
);

function totals(outcomes: number[]) {
  return {
    calls: outcomes.length,
    failures: outcomes.filter((o) => o & OUTCOME_FAILURE).length,
    slow: outcomes.filter((o) => o & OUTCOME_SLOW).length,
  };
}

describe('CountWindow', () => {
  it('always holds the totals of exactly the last `size` outcomes (model check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(outcome, { maxLength: 100 }),
        (size, outcomes) => {
          const w = new CountWindow(size);
          outcomes.forEach((o, i) => {
            w.record(o, 0);
            const expected = totals(outcomes.slice(Math.max(0, i + 1 - size), i + 1));
            expect({ calls: w.calls, failures: w.failures, slow: w.slow }).toEqual(expected);
          });
        },
      ),
    );
  });

  it('round-trips through toJSON/load, oldest first', () => {
    const w = new CountWindow(3);
    for (const o of [1, 3, 5, 7]) w.record(o, 0);
    expect(w.toJSON()).toEqual({ type: 'count', data: [3, 5, 7] });
    const copy = new CountWindow(2);
    copy.load(w.toJSON());
    expect({ calls: copy.calls, failures: copy.failures, slow: copy.slow }).toEqual({
      calls: 2,
      failures: 1,
      slow: 2,
    });
  });
});

describe('TimeWindow', () => {
  it('holds the totals of the calls in the buckets covering the last durationMs (model check)', () => {
    const bucketMs = 100;
    const buckets = 10;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), outcome), { maxLength: 80 }),
        fc.integer({ min: 0, max: 3000 }),
        (steps, finalGap) => {
          const w = new TimeWindow(bucketMs * buckets, buckets);
          const log: Array<[number, number]> = [];
          let now = 0;
          const check = () => {
            const current = Math.floor(now / bucketMs);
            expect({ calls: w.calls, failures: w.failures, slow: w.slow }).toEqual(
              totals(log.filter(([t]) => current - Math.floor(t / bucketMs) < buckets).map(([, o]) => o)),
            );
          };
          for (const [gap, o] of steps) {
            now += gap;
            w.record(o, now);
            log.push([now, o]);
            check();
          }
          now += finalGap;
          w.expire(now);
          check();
        },
      ),
    );
  });

  it('counts a call from a clock that stepped back in the newest bucket', () => {
    const w = new TimeWindow(1000, 10);
    w.record(OUTCOME_CALL, 5000);
    w.record(OUTCOME_CALL | OUTCOME_FAILURE, 4000);
    expect({ calls: w.calls, failures: w.failures }).toEqual({ calls: 2, failures: 1 });
  });

  it('round-trips through toJSON/load, dropping buckets older than the window', () => {
    const w = new TimeWindow(1000, 10);
    w.record(OUTCOME_CALL | OUTCOME_FAILURE, 0);
    w.record(OUTCOME_CALL, 950);
    const copy = new TimeWindow(1000, 10);
    copy.load(w.toJSON());
    expect({ calls: copy.calls, failures: copy.failures }).toEqual({ calls: 2, failures: 1 });
    copy.expire(1000);
    expect({ calls: copy.calls, failures: copy.failures }).toEqual({ calls: 1, failures: 0 });
  });
});
