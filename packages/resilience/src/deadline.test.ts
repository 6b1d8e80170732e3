import { isValidationError, ManualClock, type ValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { DEADLINE_HEADER, Deadline } from './deadline.js';
import { isDeadlineExceededError } from './errors.js';

describe('Deadline', () => {
  it('counts down and reports expiry', async () => {
    const clock = new ManualClock(1000);
    const d = Deadline.after(500, clock);
    expect(d.remaining()).toBe(500);
    await clock.advance(200);
    expect(d.remaining()).toBe(300);
    expect(d.expired).toBe(false);
    await clock.advance(300);
    expect(d.expired).toBe(true);
    expect(d.remaining()).toBe(0);
  });

  it('carries the remaining budget across a hop in one header', async () => {
    const clock = new ManualClock();
    const edge = Deadline.after(3000, clock);
    await clock.advance(1200);
    const outgoing = edge.toHeaders();
    expect(outgoing).toEqual({ [DEADLINE_HEADER]: '1800' });
    // The next service, with its own clock (skew does not matter: the value is relative).
    const remoteClock = new ManualClock(9_999_999);
    const incoming = Deadline.fromHeaders(outgoing, { clock: remoteClock });
    expect(incoming?.remaining()).toBe(1800);
    expect(Deadline.fromHeaders(new Headers(outgoing), { clock: remoteClock })?.remaining()).toBe(1800);
    expect(Deadline.fromHeaders({ [DEADLINE_HEADER]: ['700', '900'] }, { clock })?.remaining()).toBe(700);
    expect(Deadline.fromHeaders({}, { clock })).toBeUndefined();
  });

  it('caps a budget above maxMs', () => {
    const clock = new ManualClock();
    expect(Deadline.fromHeader('999999999', { clock }).remaining()).toBe(300_000);
    expect(Deadline.fromHeader('5000', { clock, maxMs: 1000 }).remaining()).toBe(1000);
  });

  it.each(['', 'soon', '-5', '1.5', '12abc', '1e3'])(
    'rejects the header value %j naming the header',
    (value) => {
      const error = (() => {
        try {
          Deadline.fromHeaders({ [DEADLINE_HEADER]: value });
        } catch (e) {
          return e;
        }
      })();
      expect(isValidationError(error)).toBe(true);
      expect((error as ValidationError).issues[0]?.path).toBe(`headers.${DEADLINE_HEADER}`);
    },
  );

  it('within(ms) never extends the budget', () => {
    const clock = new ManualClock();
    const d = Deadline.after(1000, clock);
    expect(d.within(300).remaining()).toBe(300);
    expect(d.within(5000).remaining()).toBe(1000);
  });

  it('execute aborts the work with DeadlineExceededError when the budget runs out', async () => {
    const clock = new ManualClock();
    const d = Deadline.after(1000, clock);
    let reason: unknown;
    const p = d
      .execute(
        (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => {
              reason = signal.reason;
              reject(signal.reason);
            }),
          ),
      )
      .catch((e: unknown) => e);
    await clock.advance(1000);
    const error = await p;
    expect(isDeadlineExceededError(error)).toBe(true);
    expect(reason).toBe(error);
    expect(isDeadlineExceededError(await d.execute(async () => 'too late').catch((e: unknown) => e))).toBe(
      true,
    );
    expect(await Deadline.after(10, clock).execute(async () => 'in time')).toBe('in time');
    expect(clock.pendingTimers()).toBe(0);
  });
});
