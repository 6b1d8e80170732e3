import { isValidationError, ManualClock } from '@trellis/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendInputSchema, looksValid, prepareAppend, versionMatches } from './append-input.js';

const anything = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -3, max: 3 }),
  fc.double(),
  fc.string({ maxLength: 3 }),
  fc.constantFrom('any', 'no_stream', 'stream_exists', 'ItemAdded', ''),
  fc.date({ noInvalidDate: false }),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 2 }), fc.integer(), { maxKeys: 2 }),
);
const event = fc.record(
  {
    eventType: anything,
    payload: anything,
    id: anything,
    schemaVersion: anything,
    metadata: anything,
    timestamp: anything,
  },
  { requiredKeys: [] },
);
const input = fc.record({
  streamId: anything,
  expectedVersion: anything,
  aggregateType: anything,
  metadata: anything,
  events: fc.oneof(anything, fc.array(fc.oneof(event, anything), { maxLength: 3 })),
});

describe('append input validation', () => {
  it('takes the hand-written fast path only for input zod accepts', () => {
    fc.assert(
      fc.property(input, (x) => {
        if (looksValid(x)) expect(appendInputSchema.safeParse(x).success).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('leaves unsafe integers to zod (a random run found 2^53 as expectedVersion on the fast path)', () => {
    for (const big of [2 ** 53, Number.MAX_VALUE]) {
      const x = {
        streamId: 's',
        expectedVersion: big,
        aggregateType: undefined,
        metadata: undefined,
        events: [],
      };
      expect(appendInputSchema.safeParse(x).success).toBe(false);
      expect(looksValid(x)).toBe(false);
      const e = { eventType: 'A', payload: 1, schemaVersion: big };
      expect(looksValid({ ...x, expectedVersion: 'any', events: [e] })).toBe(false);
    }
  });

  it('takes the fast path for ordinary valid appends', () => {
    expect(
      looksValid({
        streamId: 'order-1',
        expectedVersion: 3,
        aggregateType: 'Order',
        metadata: { correlationId: 'c' },
        events: [{ eventType: 'ItemAdded', payload: { a: 1 }, metadata: {}, timestamp: new Date() }],
      }),
    ).toBe(true);
  });

  it('fills ids, versions, metadata and timestamps from the clock', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const p = prepareAppend(
      's',
      [{ eventType: 'A', payload: 1, metadata: { userId: 'u' } }],
      { metadata: { correlationId: 'c' } },
      { clock },
    );
    expect(p).toMatchObject({ streamId: 's', aggregateType: 'unknown', expectedVersion: 'any' });
    expect(p.events[0]).toMatchObject({
      schemaVersion: 1,
      payload: 1,
      metadata: { correlationId: 'c', userId: 'u' },
    });
    expect(p.events[0]?.timestamp).toEqual(new Date(clock.now()));
  });

  it('reports bad input through zod with the field path', () => {
    const err = (() => {
      try {
        prepareAppend(
          's',
          [{ eventType: 'A', payload: 1, metadata: [] as never }],
          {},
          { clock: new ManualClock() },
        );
      } catch (e) {
        return e;
      }
    })();
    expect(isValidationError(err)).toBe(true);
    expect((err as { issues: Array<{ path: string }> }).issues[0]?.path).toBe('events.0.metadata');
  });

  it('matches expected versions', () => {
    expect([
      versionMatches('any', 5),
      versionMatches('no_stream', 0),
      versionMatches('no_stream', 1),
    ]).toEqual([true, true, false]);
    expect([
      versionMatches('stream_exists', 0),
      versionMatches('stream_exists', 2),
      versionMatches(2, 2),
      versionMatches(2, 3),
    ]).toEqual([false, true, true, false]);
  });
});
